// The live view in Chromium: an employee's notification stream and the
// access-check form, against a fresh server with the demo company (so the
// first new client on WhatsApp Sales goes to Bruce Wayne, SPEC §5).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Code, ConnectError, NotificationReason } from "@switchboard/sdk";
import { directory, launchBrowser, openPage, screenshot, startServer } from "./harness.mjs";

let server;
let browser;
let d;
let routed; // the RouteIncomingMessage response of the first test

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  d = await directory(server.api);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Routes a client's message through the API, failing the test clearly when the RPC is not there yet. */
async function route(text) {
  try {
    return await server.api.routing.routeIncomingMessage({
      channelId: d.channel("WhatsApp Sales"),
      sender: { case: "senderPhone", value: "+79161234567" },
      senderName: "Browser test client",
      content: { text },
      gatewayMessageId: `web-test-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    });
  } catch (err) {
    const ce = ConnectError.from(err);
    assert.fail(`RoutingService.RouteIncomingMessage is not usable on this server (${Code[ce.code]}: ${ce.rawMessage})`);
  }
}

test("the notification view shows a decision as soon as a message is routed", async () => {
  const { page, context, errors } = await openPage(browser, server, { hash: "#/live" });
  const T = (id) => page.getByTestId(id);
  await T("live-view").waitFor();
  const bruce = d.employee("Bruce Wayne");
  await T("live-employee").selectOption(bruce);
  await T("live-start").click();

  // Subscribed: the replay is over (CaughtUp) and the stream is live.
  const status = T("live-status");
  await page
    .locator('[data-testid="live-status"][data-state="live"]')
    .waitFor({ timeout: 10_000 })
    .catch(async () => assert.fail(`NotificationService.Subscribe did not go live: ${await status.textContent()}`));
  await T("live-caught-up").waitFor();

  routed = await route("hi");
  const pushed = routed.decision?.notifications.filter((n) => n.employeeId === bruce) ?? [];
  assert.equal(pushed.length, 1, `Bruce Wayne is pushed about the first new client (decision: ${routed.decision?.assignment?.explanation})`);
  assert.equal(pushed[0].reason, NotificationReason.NEW_CLIENT_ASSIGNED);

  const item = page.locator(`[data-testid="live-decision"][data-cursor="${pushed[0].cursor}"]`);
  await item.waitFor({ timeout: 10_000 });
  assert.match(await item.textContent(), /New client assigned/);
  assert.equal(await item.getByTestId("live-decision-preview").textContent(), "hi");
  assert.match(await item.textContent(), /WhatsApp Sales/);
  assert.match(await T("live-heartbeat").textContent(), new RegExp(`cursor ${pushed[0].cursor}\\b`), "resumes after it");
  await screenshot(page, "notifications");

  // Stopping and resuming from the last cursor replays nothing twice.
  await T("live-stop").click();
  await page.locator('[data-testid="live-status"][data-state="stopped"]').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("the access-check form shows what an employee may do in a chat", async () => {
  const { page, context } = await openPage(browser, server, { hash: "#/live" });
  const T = (id) => page.getByTestId(id);
  await T("access-check").waitFor();
  routed ??= await route("hi again");
  const chatId = routed.decision?.chat?.id;
  assert.ok(chatId, "the routed message has a chat");
  const responsible = routed.decision.client?.responsibleEmployeeId || d.employee("Bruce Wayne");

  const check = async (employeeId) => {
    await T("access-employee").selectOption(employeeId);
    await T("access-chat").fill(chatId);
    // The previous answer goes first, so the one read below is this check's.
    await page.evaluate(() =>
      document.querySelectorAll('[data-testid="access-result"], [data-testid="access-error"]').forEach((e) => e.remove()),
    );
    await T("access-check-submit").click();
    const out = page.locator('[data-testid="access-result"], [data-testid="access-error"]');
    await out.first().waitFor();
    if ((await out.first().getAttribute("data-testid")) === "access-error") {
      assert.fail(`RoutingService.CheckAccess failed: ${await out.first().textContent()}`);
    }
    return {
      view: await T("access-can-view").textContent(),
      write: await T("access-can-write").textContent(),
      rule: await T("access-rule").textContent(),
      explanation: await T("access-explanation").textContent(),
    };
  };

  const r = await check(responsible);
  assert.equal(r.view, "yes");
  assert.match(r.write, /^yes/);
  assert.ok(r.explanation.length > 1, "the decision is explained");
  await screenshot(page, "access-check");

  // Quality control sees every chat of its channel and never writes.
  const qc = await check(d.employee("Diana Prince"));
  assert.equal(qc.view, "yes");
  assert.equal(qc.write, "no");
  assert.equal(qc.rule, "quality control");
  await context.close();
});
