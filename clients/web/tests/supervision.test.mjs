// What a supervisor sees on the settings page: before Save, what the
// change would do in plain words (PreviewSettings), changing nothing.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DistributionMode } from "@switchboard/sdk";
import { directory, launchBrowser, openPage, screenshot, startServer } from "./harness.mjs";

let server;
let browser;
let d;
const routed = [];

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  d = await directory(server.api);
  // Five clients write on WhatsApp Sales: Diana Prince (quality control
  // there) sees all five chats.
  for (let i = 0; i < 5; i++) {
    routed[i] = await server.api.routing.routeIncomingMessage({
      channelId: d.channel("WhatsApp Sales"),
      sender: { case: "senderPhone", value: `+7916555000${i}` },
      content: { text: "hello" },
      gatewayMessageId: `preview-${i}`,
    });
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("before Save the page says who would gain or lose chats and new clients", async () => {
  const { page, errors } = await openPage(browser, server);
  const T = (id) => page.getByTestId(id);
  await T("settings-view").waitFor();
  const wa = d.channel("WhatsApp Sales");
  const before = (await server.api.integration.getIntegrationSettings({})).settings;

  await T(`member-${wa}-${d.employee("Diana Prince")}-remove`).click();
  await T(`channel-${wa}-distribution`).selectOption(String(DistributionMode.FIRST_RESPONDER));
  const panel = T("preview-panel");
  await panel.filter({ hasText: "Diana Prince would stop seeing 5 chats on WhatsApp Sales" }).waitFor({ timeout: 10_000 });
  await panel.filter({ hasText: /On WhatsApp Sales, every new client would go to the first to answer among Bruce Wayne/ }).waitFor();
  await screenshot(page, "settings-preview");

  // The preview changed nothing; discarding leaves the settings as they were.
  const during = (await server.api.integration.getIntegrationSettings({})).settings;
  assert.equal(during.revision, before.revision);
  await T("discard").click();
  await T("dirty-bar").waitFor({ state: "detached" });
  assert.deepEqual(errors, []);
});

test("the team view shows the chats waiting, kept current, and a client's history", async () => {
  const { page, errors } = await openPage(browser, server, { hash: "#/team" });
  const T = (id) => page.getByTestId(id);
  await T("team-view").waitFor();
  await T("waiting-total").filter({ hasText: "5 chats waiting, 0 with nobody responsible." }).waitFor({ timeout: 10_000 });
  // Weighted: Bruce, Scrooge, Tony twice, Constantine.
  const tony = d.employee("Tony Stark");
  const tonyRow = T(`waiting-employee-${tony}`);
  await tonyRow.filter({ hasText: /Tony Stark\s*2/ }).waitFor();
  await screenshot(page, "team-waiting");

  // Tony answers one: the view follows.
  const chat = routed.find((r) => r.decision.client.responsibleEmployeeId === tony).decision.chat;
  await server.api.routing.routeOutgoingMessage({
    employeeId: tony,
    target: { case: "chatId", value: chat.id },
    content: { text: "on it" },
  });
  await tonyRow.filter({ hasText: /Tony Stark\s*1/ }).waitFor({ timeout: 10_000 });
  await T("waiting-total").filter({ hasText: "4 chats waiting" }).waitFor();

  // A client's history: who got it and why.
  await T("history-client").fill(routed[0].decision.client.id);
  await T("history-show").click();
  await T("history-entry").filter({ hasText: /nobody → Bruce Wayne \(distribution\): WEIGHTED/ }).waitFor();
  await screenshot(page, "team-history");
  assert.deepEqual(errors, []);
});
