// The page's CRM part in Chromium against a real server and the in-repo
// fake amoCRM: connecting (a wrong token, then the right one), what the
// page takes from the CRM, the sync panel, disconnecting. The tests run in
// order on one server; the last one starts its own, without a secret key.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { directory, launchBrowser, openPage, screenshot, startServer } from "./harness.mjs";

let server;
let browser;
let d;

before(async () => {
  [server, browser] = await Promise.all([startServer({ crm: true }), launchBrowser()]);
  d = await directory(server.api);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function settingsNow(api = server.api) {
  return (await api.integration.getIntegrationSettings({})).settings;
}

async function openSettings(srv = server) {
  const p = await openPage(browser, srv);
  await p.page.getByTestId("settings-view").waitFor();
  return p;
}

/** Waits until check() is truthy, calling it every half second. */
async function eventually(what, check, timeout = 30_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 500));
  }
}

/** A new client writes to WhatsApp Sales (through the SDK, as a gateway would). */
async function newClient(phone, name) {
  await server.api.routing.routeIncomingMessage({
    channelId: d.channel("WhatsApp Sales"),
    sender: { case: "senderPhone", value: phone },
    senderName: name,
    content: { text: "Hello, I'd like to order" },
    gatewayMessageId: `web-crm-test-${phone}-${Date.now()}`,
  });
}

async function fillConnectForm(page, token) {
  const T = (id) => page.getByTestId(id);
  await T("crm-kind-select").selectOption({ label: "amoCRM" });
  await T("crm-base-url").fill(server.crm.baseUrl);
  await T("crm-token").fill(token);
}

test("the CRM panel starts with the built-in CRM and a write-only token input", async () => {
  const { page, context, errors } = await openSettings();
  const T = (id) => page.getByTestId(id);
  assert.match(await T("crm-current-kind").textContent(), /built-in/);
  assert.equal(await T("crm-token").getAttribute("type"), "password");
  assert.equal(await T("crm-token").getAttribute("autocomplete"), "off");
  assert.equal(await T("crm-token").inputValue(), "");
  assert.equal(await T("crm-base-url").getAttribute("placeholder"), "https://{subdomain}.amocrm.ru");
  await T("crm-kind-select").selectOption({ label: "Kommo" });
  assert.equal(await T("crm-base-url").getAttribute("placeholder"), "https://{subdomain}.kommo.com");
  assert.equal(await T("crm-sync").count(), 0, "no sync panel without an external CRM");
  assert.deepEqual(errors, []);
  await context.close();
});

test("a wrong token is shown next to the token input and changes nothing", async () => {
  const before = await settingsNow();
  const { employees } = await server.api.directory.listEmployees({ includeDeactivated: true });
  const { page, context, errors } = await openSettings();
  const T = (id) => page.getByTestId(id);
  await fillConnectForm(page, "not-the-token");
  await T("crm-connect").click();
  const err = page.locator('[data-testid="field-error"][data-error-for="token"]');
  await err.waitFor();
  assert.match(await err.textContent(), /refused the token/);
  // The error sits right after the token input, which is marked and empty.
  assert.equal(await page.locator('[data-testid="crm-token"] + [data-testid="field-error"]').count(), 1);
  assert.equal(await T("crm-token").getAttribute("aria-invalid"), "true");
  assert.equal(await T("crm-token").inputValue(), "");
  assert.match(await T("crm-status").textContent(), /Nothing was changed/);
  assert.match(await T("crm-current-kind").textContent(), /built-in/);

  const now = await settingsNow();
  assert.equal(now.revision, before.revision);
  assert.equal(now.crmConnection, undefined);
  const after = await server.api.directory.listEmployees({ includeDeactivated: true });
  assert.deepEqual(after.employees.map((e) => e.name), employees.map((e) => e.name));
  assert.deepEqual(errors, []);
  await context.close();
});

test("connecting shows what changed and the webhook URL, then the page uses the CRM's employees and pipelines", async () => {
  const { page, context, errors } = await openSettings();
  const T = (id) => page.getByTestId(id);
  await fillConnectForm(page, server.crm.token);
  await T("crm-connect").click();
  await T("crm-webhook").waitFor({ timeout: 30_000 });
  assert.match(await T("crm-status").textContent(), /Connected to amoCRM/);
  assert.equal(await T("crm-token").inputValue(), "", "the token is never shown back");

  const changes = await T("refresh-changes").textContent();
  assert.match(changes, /linked employee Bruce Wayne/);
  assert.match(changes, /added employee/);
  await T("refresh-findings").waitFor();

  const url = await T("crm-webhook-url").inputValue();
  assert.ok(url.startsWith(`${server.baseUrl}/webhooks/crm/`), url);
  assert.match(await T("crm-webhook").textContent(), /Web hooks.*lead status changed.*responsible changed/);

  assert.equal(await T("crm-current-kind").textContent(), "amoCRM");
  assert.equal(await T("crm-current-url").textContent(), server.crm.baseUrl);
  assert.match(await T("crm-kind").textContent(), /amoCRM/);
  const s = await settingsNow();
  assert.equal(s.crmConnection?.baseUrl, server.crm.baseUrl);

  await screenshot(page, "crm-connect");

  // The selects and the grid now hold what the CRM has.
  assert.match(await T("access-grid").textContent(), /John Constantine/);
  const wa = d.channel("WhatsApp Sales");
  await T(`channel-${wa}-entity-kind`).selectOption("deal");
  const pipelines = await T(`channel-${wa}-pipeline`).locator("option").allTextContents();
  assert.ok(pipelines.includes("Sales") && pipelines.includes("Support"), pipelines.join(", "));
  await T(`channel-${wa}-pipeline`).selectOption({ label: "Sales" });
  const stages = await T(`channel-${wa}-stage`).locator("option").allTextContents();
  assert.ok(stages.includes("Negotiation"), stages.join(", "));
  await T("discard").click();
  assert.deepEqual(errors, []);
  await context.close();
});

test("the sync panel shows the writes to the CRM as they go through", async () => {
  const { page, context, errors } = await openSettings();
  const T = (id) => page.getByTestId(id);
  await T("crm-sync").waitFor();
  assert.match(await T("crm-sync-last-success").textContent(), /never/);
  assert.match(await T("crm-sync-failed-count").textContent(), /^0 failed$/);

  await newClient("+79165550101", "Peter Parker");
  // The outbox writes the new client's contact and deal to the fake CRM;
  // the panel polls on its own.
  await eventually("a last success in the sync panel", async () => !/never/.test(await T("crm-sync-last-success").textContent()));
  await T("crm-sync-refresh").click();
  assert.match(await T("crm-sync-failed-count").textContent(), /^0 failed$/);
  const firstSuccess = await T("crm-sync-last-success").textContent();

  // The token revoked in the CRM: the next new client's write is refused
  // and parked as failed, with the CRM's message and a retry button.
  await server.crm.restart("a-token-the-server-does-not-have");
  await newClient("+79165550102", "Mary Jane Watson");
  const failed = T("crm-sync-failed").locator("tbody tr").filter({ hasText: "new client" });
  await eventually("a failed new client's write in the sync panel", async () => (await failed.count()) > 0);
  assert.match(await failed.first().textContent(), /refused the token/);
  assert.match(await T("crm-sync-failed-count").textContent(), /^[1-9]\d* failed$/);
  await T("crm-sync").scrollIntoViewIfNeeded();
  await screenshot(page, "crm-sync");

  // Fixed in the CRM: retrying writes it.
  await server.crm.restart(server.crm.token);
  await eventually("no failed write after retrying", async () => {
    const retry = page.locator('[data-testid^="crm-sync-retry-"]');
    if (!(await retry.count())) return true;
    await retry.first().click();
    return false;
  });
  await eventually("a newer last success", async () => {
    await T("crm-sync-refresh").click();
    return (await T("crm-sync-last-success").textContent()) !== firstSuccess && /^0 failed$/.test(await T("crm-sync-failed-count").textContent());
  });
  assert.deepEqual(errors, []);
  await context.close();
});

test("refresh from the CRM lists what changed", async () => {
  const { page, context } = await openSettings();
  const T = (id) => page.getByTestId(id);
  await T("refresh-crm").click();
  await T("refresh-result").waitFor();
  assert.match(await T("refresh-result").textContent(), /amoCRM: \d+ active/);
  assert.match(await T("refresh-changes").textContent(), /Nothing changed/);
  await context.close();
});

test("disconnect deletes the integration and the panel shows the built-in CRM again", async () => {
  const { page, context, errors } = await openSettings();
  const T = (id) => page.getByTestId(id);
  await T("crm-disconnect").click();
  await T("delete-dialog").waitFor();
  assert.match(await T("delete-dialog").textContent(), /token is forgotten/);
  await T("delete-confirm").click();
  await page.getByTestId("status").filter({ hasText: /integration was deleted/ }).waitFor();
  assert.match(await T("crm-current-kind").textContent(), /built-in/);
  assert.equal(await T("crm-disconnect").count(), 0);
  assert.equal(await T("crm-sync").count(), 0);
  assert.equal((await settingsNow()).crmConnection, undefined);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a server without a secret key says so when connecting", async () => {
  const plain = await startServer();
  try {
    const { page, context, errors } = await openSettings(plain);
    const T = (id) => page.getByTestId(id);
    await T("crm-base-url").fill("https://acme.amocrm.ru");
    await T("crm-token").fill("some-token");
    await T("crm-connect").click();
    const banner = T("crm-status").filter({ hasText: /FAILED_PRECONDITION/ });
    await banner.waitFor();
    assert.match(await banner.textContent(), /cannot connect a CRM.*--secret-key/);
    assert.equal(await T("crm-token").inputValue(), "");
    assert.equal((await settingsNow(plain.api)).crmConnection, undefined);
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await plain.stop();
  }
});
