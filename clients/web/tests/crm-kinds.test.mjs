// The page's connect form for every CRM, and connecting Bitrix24 with its
// webhook URL against the in-repo fake portal, in Chromium against a real
// server.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { directory, launchBrowser, openPage, screenshot, startServer } from "./harness.mjs";

let server;
let browser;

before(async () => {
  [server, browser] = await Promise.all([startServer({ crm: "bitrix24" }), launchBrowser()]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openSettings() {
  const p = await openPage(browser, server);
  await p.page.getByTestId("settings-view").waitFor();
  return p;
}

test("each CRM asks for its own address and token, in its own words", async () => {
  const { page, context, errors } = await openSettings();
  const T = (id) => page.getByTestId(id);
  const labels = await T("crm-kind-select").locator("option").allTextContents();
  assert.deepEqual(labels, ["amoCRM", "Kommo", "Bitrix24", "Zoho CRM", "HubSpot", "Pipedrive"]);

  await T("crm-kind-select").selectOption({ label: "Bitrix24" });
  assert.match(await T("crm-token-label").textContent(), /Incoming webhook URL/);
  assert.equal(await T("crm-base-url").getAttribute("placeholder"), "https://{portal}.bitrix24.ru");
  assert.match(await T("crm-token-help").textContent(), /Incoming webhook.*crm and user/);

  await T("crm-kind-select").selectOption({ label: "Zoho CRM" });
  assert.match(await T("crm-base-url-label").textContent(), /Data centre/);
  assert.match(await T("crm-token-label").textContent(), /client_id:client_secret:refresh_token/);

  // HubSpot has one address for everyone: it is filled in, and taken back
  // out when another CRM is chosen.
  assert.equal(await T("crm-webhook-secret").count(), 0, "only a CRM that signs its webhooks asks for a secret");
  await T("crm-kind-select").selectOption({ label: "HubSpot" });
  assert.equal(await T("crm-base-url").inputValue(), "https://api.hubapi.com");
  assert.equal(await T("crm-webhook-secret").getAttribute("type"), "password");
  await T("crm-kind-select").selectOption({ label: "Pipedrive" });
  assert.equal(await T("crm-base-url").inputValue(), "");
  assert.equal(await T("crm-base-url").getAttribute("placeholder"), "https://{company}.pipedrive.com");
  assert.deepEqual(errors, []);
  await context.close();
});

test("a webhook URL where the address goes is refused without being repeated", async () => {
  const { page, context, errors } = await openSettings();
  const T = (id) => page.getByTestId(id);
  await T("crm-kind-select").selectOption({ label: "Bitrix24" });
  await T("crm-base-url").fill(server.crm.token);
  await T("crm-token").fill(server.crm.token);
  await T("crm-connect").click();
  const err = page.locator('[data-testid="field-error"][data-error-for="base_url"]');
  await err.waitFor();
  assert.doesNotMatch(await err.textContent(), /bxfakesecret/);
  assert.equal((await server.api.integration.getIntegrationSettings({})).settings.crmConnection, undefined);
  assert.deepEqual(errors, []);
  await context.close();
});

test("Bitrix24 connects with its webhook URL: the portal's users become employees, the secret is never shown", async () => {
  const { page, context, errors } = await openSettings();
  const T = (id) => page.getByTestId(id);
  await T("crm-kind-select").selectOption({ label: "Bitrix24" });
  await T("crm-base-url").fill(server.crm.baseUrl);
  await T("crm-token").fill(server.crm.token);
  await T("crm-connect").click();
  await T("crm-webhook").waitFor({ timeout: 30_000 });
  assert.match(await T("crm-status").textContent(), /Connected to Bitrix24/);
  assert.equal(await T("crm-current-kind").textContent(), "Bitrix24");
  assert.equal(await T("crm-current-url").textContent(), server.crm.baseUrl);
  assert.match(await T("crm-webhook-help").textContent(), /Outgoing webhook.*ONCRMDEALUPDATE/);
  assert.equal(await T("crm-token").inputValue(), "");
  assert.doesNotMatch(await page.content(), /bxfakesecret/);

  const { employees } = await server.api.directory.listEmployees({ includeDeactivated: true });
  const fromPortal = employees.filter((e) => e.crmUserId);
  assert.ok(fromPortal.some((e) => e.name === "Diana Prince" && e.active), employees.map((e) => e.name).join(", "));
  assert.ok(fromPortal.some((e) => e.name === "Selina Kyle" && !e.active), "the dismissed portal user is a deactivated employee");
  await T("crm-sync").waitFor();
  await screenshot(page, "crm-connect-bitrix24");
  assert.deepEqual(errors, []);
  await context.close();
});

test("with Bitrix24, a channel of its Open Channels shows the steps for writing first and who is ready", async () => {
  const d = await directory(server.api);
  const wa = d.channel("WhatsApp Sales");
  const { page, context, errors } = await openSettings();
  const T = (id) => page.getByTestId(id);
  assert.equal(await T(`channel-${wa}-open-channels-missing`).count(), 0);
  await T(`channel-${wa}-open-channels`).check();
  await T(`channel-${wa}-open-channels-ready`).waitFor();
  assert.doesNotMatch(await T(`channel-${wa}-open-channels-ready`).textContent(), /Tony Stark/);
  const missing = await T(`channel-${wa}-open-channels-missing`).textContent();
  assert.match(missing, /Step 2 missing for .*Tony Stark/);
  const { channels } = await server.api.directory.listChannels({});
  assert.equal(channels.find((c) => c.id === wa)?.openChannels, true, "the flag is applied at once");

  // Tony takes the channel as his default outgoing one: he is ready.
  const { employees } = await server.api.directory.listEmployees({});
  const tony = employees.find((e) => e.name === "Tony Stark");
  await server.api.directory.setDefaultOutgoingChannel({ employeeId: tony.id, channelId: wa });
  await page.reload();
  await T(`channel-${wa}-open-channels-ready`).waitFor();
  assert.match(await T(`channel-${wa}-open-channels-ready`).textContent(), /Ready: .*Tony Stark/);
  assert.doesNotMatch((await T(`channel-${wa}-open-channels-missing`).textContent()) ?? "", /Tony Stark/);
  await T(`channel-${wa}-open-channels-steps`).scrollIntoViewIfNeeded();
  await screenshot(page, "open-channels");
  assert.deepEqual(errors, []);
  await context.close();
});
