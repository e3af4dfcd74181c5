// The settings page in Chromium against a real server with the demo
// company. The tests run in order on one server: each starts from what the
// previous one saved.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  ChannelAccess,
  ChannelAccessLevel,
  clone,
  DistributionMode,
  EmployeeRole,
  GlobalChatVisibility,
  IntegrationSettingsSchema,
  RepeatClientPolicy,
  SaveMessagesMode,
} from "@switchboard/sdk";
import { API_KEY, directory, launchBrowser, openPage, screenshot, startServer } from "./harness.mjs";

let server;
let browser;
let d;
let ids;

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  d = await directory(server.api);
  ids = {
    bruce: d.employee("Bruce Wayne"),
    scrooge: d.employee("Scrooge McDuck"),
    tony: d.employee("Tony Stark"),
    constantine: d.employee("Constantine"),
    alfred: d.employee("Alfred Pennyworth"),
    diana: d.employee("Diana Prince"),
    wa: d.channel("WhatsApp Sales"),
    tg: d.channel("Telegram Support"),
  };
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function settingsNow() {
  return (await server.api.integration.getIntegrationSettings({})).settings;
}

function channelOf(s, id) {
  return s.channels.find((c) => c.channelId === id);
}

async function openSettings(opts) {
  const p = await openPage(browser, server, opts);
  await p.page.getByTestId("settings-view").waitFor();
  return p;
}

async function expectStatus(page, re) {
  const status = page.getByTestId("status");
  await status.filter({ hasText: re }).waitFor({ timeout: 10_000 }).catch(async () => {
    const text = (await status.count()) ? await status.textContent() : "(no status)";
    assert.fail(`expected status ${re}, got: ${text}`);
  });
}

test("asks for the API key and keeps it", async () => {
  const { page, context, errors } = await openPage(browser, server, { key: "" });
  await page.getByTestId("api-key-form").waitFor();
  await screenshot(page, "api-key");
  await page.getByTestId("api-key-input").fill("sbk_not_a_key_000000000000");
  await page.getByTestId("api-key-submit").click();
  await page.getByTestId("api-key-error").waitFor();
  await page.getByTestId("api-key-input").fill(API_KEY);
  await page.getByTestId("api-key-submit").click();
  await page.getByTestId("settings-view").waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem("switchboard.apiKey")), API_KEY);
  await page.reload();
  await page.getByTestId("settings-view").waitFor();
  assert.match(await page.getByTestId("connected").textContent(), /^connected$/);
  await screenshot(page, "settings", { fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test("every setting can be changed, saved, and is kept after a reload", async () => {
  const { page, context, errors } = await openSettings();
  const T = (id) => page.getByTestId(id);
  const { bruce, scrooge, tony, constantine, alfred, diana, wa, tg } = ids;
  const before = await settingsNow();

  // For all channels.
  await T("account-save-messages").selectOption(String(SaveMessagesMode.DAILY));
  await T("account-time-zone").fill("Europe/Moscow");
  // The home region starts automatic, Russian while 8 means +7.
  assert.equal(await T("account-home-region").inputValue(), "auto");
  assert.match(await T("account-home-region").locator("option:checked").textContent(), /Automatic: Russia \(RU\)/);
  await T("account-convert-8").uncheck();
  assert.match(await T("account-home-region").locator("option:checked").textContent(), /Automatic: none/);
  await T("account-home-region").selectOption("KZ");
  await T("account-notify-managers").check();
  await T("account-visibility").selectOption(String(GlobalChatVisibility.ALL));
  await T(`chat-admin-${alfred}`).check();
  await T(`chat-admin-${diana}`).check();

  // WhatsApp Sales: mode, policy, new-client entity and the roles window.
  await T(`channel-${wa}-distribution`).selectOption(String(DistributionMode.ROUND_ROBIN));
  await T(`channel-${wa}-repeat`).selectOption(String(RepeatClientPolicy.APPEND_TO_LAST_CLOSED_DEAL));
  await T(`channel-${wa}-entity-kind`).selectOption("deal");
  await T(`channel-${wa}-pipeline`).selectOption(d.pipeline("Sales"));
  await T(`channel-${wa}-stage`).selectOption(d.stage("Sales", "Qualified"));
  await T(`member-${wa}-${scrooge}-role`).selectOption(String(EmployeeRole.MANAGER));
  await T(`member-${wa}-${tony}-weight`).fill("5");
  await T(`member-${wa}-${constantine}-receives`).uncheck();
  await T(`member-${wa}-${tony}-up`).click(); // Tony before Scrooge
  await T(`member-${wa}-${diana}-remove`).click();

  // Telegram Support: a lead instead of a deal, and a new member.
  await T(`channel-${tg}-distribution`).selectOption(String(DistributionMode.WEIGHTED));
  await T(`channel-${tg}-repeat`).selectOption(String(RepeatClientPolicy.APPEND_TO_LAST_CLOSED_DEAL));
  await T(`channel-${tg}-entity-kind`).selectOption("lead");
  await T(`channel-${tg}-lead-status`).selectOption(d.leadStatus("Contacted"));
  await T(`channel-${tg}-add-employee`).selectOption(diana);
  await T(`channel-${tg}-add`).click();
  await T(`member-${tg}-${diana}-role`).selectOption(String(EmployeeRole.QUALITY_CONTROL));

  // The access grid and default outgoing channels.
  await T(`grid-${scrooge}-${tg}`).selectOption(String(ChannelAccessLevel.READ_WRITE));
  await T(`grid-${constantine}-${tg}`).selectOption(String(ChannelAccessLevel.READ));
  await T(`grid-${alfred}-${wa}`).selectOption(String(ChannelAccessLevel.READ));
  await T(`member-${tg}-${scrooge}-receives`).check();
  await T(`member-${tg}-${scrooge}-weight`).fill("4");
  await T(`default-${bruce}-${tg}`).check(); // replaces Bruce's WhatsApp default
  await T(`default-${tony}-${wa}`).check();
  await T(`default-${scrooge}-${tg}`).check();
  assert.equal(await T(`default-${bruce}-${wa}`).isChecked(), false, "one default per employee");
  // Read-only cells cannot be a default outgoing channel.
  assert.equal(await T(`default-${constantine}-${tg}`).isDisabled(), true);

  await T("dirty-indicator").waitFor();
  await T(`channel-${wa}`).scrollIntoViewIfNeeded();
  await screenshot(page, "settings-edited");
  await T("save").click();
  await expectStatus(page, /Saved \(revision \d+\)/);
  assert.equal(await T("dirty-indicator").count(), 0);

  // What the server has now.
  const s = await settingsNow();
  assert.ok(s.revision > before.revision);
  const a = s.account;
  assert.equal(a.saveMessages, SaveMessagesMode.DAILY);
  assert.equal(a.timeZone, "Europe/Moscow");
  assert.equal(a.convert8ToPlus7, false);
  assert.equal(a.homeRegion, "KZ");
  assert.equal(a.notifyManagersAllMessages, true);
  assert.equal(a.globalChatVisibility, GlobalChatVisibility.ALL);
  assert.deepEqual([...a.chatAdminEmployeeIds].sort(), [alfred, diana].sort());
  assert.deepEqual(
    Object.fromEntries(a.defaultOutgoingChannels.map((x) => [x.employeeId, x.channelId])),
    { [bruce]: tg, [tony]: wa, [scrooge]: tg },
  );
  const w = channelOf(s, wa);
  assert.equal(w.distribution, DistributionMode.ROUND_ROBIN);
  assert.equal(w.repeatClientPolicy, RepeatClientPolicy.APPEND_TO_LAST_CLOSED_DEAL);
  assert.equal(w.newClientEntity?.entity.case, "deal");
  assert.equal(w.newClientEntity.entity.value.pipelineId, d.pipeline("Sales"));
  assert.equal(w.newClientEntity.entity.value.stageId, d.stage("Sales", "Qualified"));
  assert.deepEqual(
    w.members.map((m) => m.employeeId),
    [bruce, tony, scrooge, constantine, alfred],
  );
  const wm = (id) => w.members.find((m) => m.employeeId === id);
  assert.equal(wm(tony).weight, 5);
  assert.equal(wm(scrooge).role, EmployeeRole.MANAGER);
  assert.equal(wm(constantine).receivesNewClients, false);
  assert.equal(wm(alfred).access, ChannelAccess.READ_ONLY);
  const t = channelOf(s, tg);
  assert.equal(t.distribution, DistributionMode.WEIGHTED);
  assert.equal(t.repeatClientPolicy, RepeatClientPolicy.APPEND_TO_LAST_CLOSED_DEAL);
  assert.equal(t.newClientEntity?.entity.case, "lead");
  assert.equal(t.newClientEntity.entity.value.leadStatusId, d.leadStatus("Contacted"));
  assert.deepEqual(
    t.members.map((m) => m.employeeId),
    [bruce, tony, alfred, diana, scrooge, constantine],
  );
  const tm = (id) => t.members.find((m) => m.employeeId === id);
  assert.equal(tm(diana).role, EmployeeRole.QUALITY_CONTROL);
  assert.equal(tm(diana).access, ChannelAccess.READ_ONLY);
  assert.equal(tm(scrooge).access, ChannelAccess.READ_WRITE);
  assert.equal(tm(scrooge).receivesNewClients, true);
  assert.equal(tm(scrooge).weight, 4);
  assert.equal(tm(constantine).access, ChannelAccess.READ_ONLY);

  // And what the page shows after a reload.
  await page.reload();
  await T("settings-view").waitFor();
  assert.equal(await T("account-save-messages").inputValue(), String(SaveMessagesMode.DAILY));
  assert.equal(await T("account-time-zone").inputValue(), "Europe/Moscow");
  assert.equal(await T("account-convert-8").isChecked(), false);
  assert.equal(await T("account-home-region").inputValue(), "KZ");
  assert.match(await T("account-home-region").locator("option:checked").textContent(), /Kazakhstan \(KZ\)/);
  assert.equal(await T("account-notify-managers").isChecked(), true);
  assert.equal(await T("account-visibility").inputValue(), String(GlobalChatVisibility.ALL));
  assert.equal(await T(`chat-admin-${alfred}`).isChecked(), true);
  assert.equal(await T(`chat-admin-${diana}`).isChecked(), true);
  assert.equal(await T(`chat-admin-${bruce}`).isChecked(), false);
  assert.equal(await T(`channel-${wa}-distribution`).inputValue(), String(DistributionMode.ROUND_ROBIN));
  assert.equal(await T(`channel-${wa}-repeat`).inputValue(), String(RepeatClientPolicy.APPEND_TO_LAST_CLOSED_DEAL));
  assert.equal(await T(`channel-${wa}-entity-kind`).inputValue(), "deal");
  assert.equal(await T(`channel-${wa}-stage`).inputValue(), d.stage("Sales", "Qualified"));
  assert.equal(await T(`channel-${tg}-entity-kind`).inputValue(), "lead");
  assert.equal(await T(`channel-${tg}-lead-status`).inputValue(), d.leadStatus("Contacted"));
  assert.equal(await T(`channel-${tg}-distribution`).inputValue(), String(DistributionMode.WEIGHTED));
  assert.equal(await T(`member-${wa}-${tony}-weight`).inputValue(), "5");
  assert.equal(await T(`member-${wa}-${scrooge}-role`).inputValue(), String(EmployeeRole.MANAGER));
  assert.equal(await T(`member-${wa}-${constantine}-receives`).isChecked(), false);
  assert.equal(await T(`member-${tg}-${diana}-role`).inputValue(), String(EmployeeRole.QUALITY_CONTROL));
  assert.equal(await T(`member-${tg}-${scrooge}-weight`).inputValue(), "4");
  const rows = await page
    .locator(`[data-testid="channel-${wa}-members"] tbody tr`)
    .evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-testid")));
  assert.deepEqual(rows, [bruce, tony, scrooge, constantine, alfred].map((e) => `member-${wa}-${e}`));
  assert.equal(await T(`grid-${alfred}-${wa}`).inputValue(), String(ChannelAccessLevel.READ));
  assert.equal(await T(`grid-${scrooge}-${tg}`).inputValue(), String(ChannelAccessLevel.READ_WRITE));
  assert.equal(await T(`grid-${constantine}-${tg}`).inputValue(), String(ChannelAccessLevel.READ));
  assert.equal(await T(`grid-${diana}-${wa}`).inputValue(), String(ChannelAccessLevel.NO_ACCESS));
  assert.equal(await T(`default-${bruce}-${tg}`).isChecked(), true);
  assert.equal(await T(`default-${tony}-${wa}`).isChecked(), true);
  assert.equal(await T(`default-${scrooge}-${tg}`).isChecked(), true);
  assert.equal(await T(`default-${constantine}-none`).isChecked(), true);
  assert.equal(await T("dirty-indicator").count(), 0);
  await screenshot(page, "settings-saved", { fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test("the home region is automatic, none, or a region", async () => {
  const { page, context, errors } = await openSettings();
  const T = (id) => page.getByTestId(id);
  const region = T("account-home-region");

  await region.selectOption("");
  await T("save").click();
  await expectStatus(page, /Saved \(revision \d+\)/);
  assert.equal((await settingsNow()).account.homeRegion, "", "none: read as international");

  await region.selectOption("auto");
  await T("account-convert-8").check();
  assert.match(await region.locator("option:checked").textContent(), /Automatic: Russia \(RU\)/);
  await T("save").click();
  await expectStatus(page, /Saved \(revision \d+\)/);
  let a = (await settingsNow()).account;
  assert.equal(a.homeRegion, undefined, "automatic is unset");
  assert.equal(a.convert8ToPlus7, true);

  // A region saved elsewhere is shown as it is.
  const theirs = clone(IntegrationSettingsSchema, await settingsNow());
  theirs.account.homeRegion = "BR";
  theirs.account.convert8ToPlus7 = false;
  await server.api.integration.updateIntegrationSettings({ settings: theirs });
  await page.reload();
  await T("settings-view").waitFor();
  assert.equal(await region.inputValue(), "BR");
  assert.deepEqual(errors, []);
  await context.close();
});

test("leaving with unsaved changes asks save, discard or stay", async () => {
  const { page, context } = await openSettings();
  const T = (id) => page.getByTestId(id);

  await T("account-visibility").selectOption(String(GlobalChatVisibility.OWN_AND_UNASSIGNED));
  await T("nav-live").click();
  await T("leave-dialog").waitFor();
  await screenshot(page, "unsaved-changes");
  await T("leave-stay").click();
  assert.equal(await T("leave-dialog").count(), 0);
  await T("dirty-indicator").waitFor();
  assert.equal(await T("account-visibility").inputValue(), String(GlobalChatVisibility.OWN_AND_UNASSIGNED));

  await T("nav-live").click();
  await T("leave-discard").click();
  await T("live-view").waitFor();
  await T("nav-settings").click();
  await T("settings-view").waitFor();
  assert.equal(await T("account-visibility").inputValue(), String(GlobalChatVisibility.ALL));
  assert.equal(await T("dirty-indicator").count(), 0);

  await T("account-visibility").selectOption(String(GlobalChatVisibility.OWN_AND_UNASSIGNED));
  await T("nav-live").click();
  await T("leave-save").click();
  await T("live-view").waitFor();
  assert.equal((await settingsNow()).account.globalChatVisibility, GlobalChatVisibility.OWN_AND_UNASSIGNED);

  // Closing or reloading the tab with unsaved changes asks the browser's question.
  await T("nav-settings").click();
  await T("account-visibility").selectOption(String(GlobalChatVisibility.OWN));
  await T("dirty-indicator").waitFor();
  const dialog = new Promise((ok) => page.once("dialog", ok));
  await page.close({ runBeforeUnload: true });
  const dlg = await dialog;
  assert.equal(dlg.type(), "beforeunload");
  await dlg.accept();
  assert.equal((await settingsNow()).account.globalChatVisibility, GlobalChatVisibility.OWN_AND_UNASSIGNED);
  await context.close();
});

test("a save on a stale revision shows the conflict and overwrites nothing", async () => {
  const { page, context } = await openSettings();
  const T = (id) => page.getByTestId(id);
  await T("account-save-messages").selectOption(String(SaveMessagesMode.EACH_MESSAGE));

  // Someone else saves in the meantime.
  const theirs = clone(IntegrationSettingsSchema, await settingsNow());
  theirs.account.timeZone = "Asia/Tokyo";
  await server.api.integration.updateIntegrationSettings({ settings: theirs });

  await T("save").click();
  const banner = T("conflict-banner");
  await banner.waitFor();
  assert.match(await banner.textContent(), /Someone else changed the settings/);
  assert.equal(await T("save").isDisabled(), true, "no second try over their change");
  await screenshot(page, "conflict");

  const s = await settingsNow();
  assert.equal(s.account.timeZone, "Asia/Tokyo", "their change is kept");
  assert.equal(s.account.saveMessages, SaveMessagesMode.DAILY, "ours was not saved");

  await T("conflict-reload").click();
  await expectStatus(page, /Reloaded/);
  assert.equal(await T("conflict-banner").count(), 0);
  assert.equal(await T("account-time-zone").inputValue(), "Asia/Tokyo");
  assert.equal(await T("account-save-messages").inputValue(), String(SaveMessagesMode.DAILY));
  assert.equal(await T("save").isDisabled(), false);
  await context.close();
});

test("a weight out of range is shown next to its input", async () => {
  const { page, context } = await openSettings();
  const T = (id) => page.getByTestId(id);
  const s = await settingsNow();
  const ci = s.channels.findIndex((c) => c.channelId === ids.wa);
  const mi = s.channels[ci].members.findIndex((m) => m.employeeId === ids.tony);
  const path = `settings.channels[${ci}].members[${mi}].weight`;
  const input = T(`member-${ids.wa}-${ids.tony}-weight`);

  await input.fill("101");
  await T("save").click();
  const err = page.locator(`[data-testid="field-error"][data-error-for="${path}"]`);
  await err.first().waitFor();
  assert.match(await err.first().textContent(), /between 1 and 100/);
  assert.equal(
    await input.evaluate((el) => el.nextElementSibling?.getAttribute("data-error-for")),
    path,
    "the error is right after the weight input",
  );
  assert.equal(await input.getAttribute("aria-invalid"), "true");
  await expectStatus(page, /one field needs fixing/);
  await screenshot(page, "field-error");
  assert.equal((await settingsNow()).revision, s.revision, "nothing was saved");

  // 0 would be read by the API as "the default, 1": the page refuses it
  // next to the input and keeps what was typed, as it does an empty input.
  for (const typed of ["0", ""]) {
    await input.fill(typed);
    await T("save").click();
    const e = page.locator(`[data-testid="field-error"][data-error-for="${path}"]`);
    await e.first().waitFor();
    assert.match(await e.first().textContent(), /between 1 and 100/);
    assert.equal(await input.inputValue(), typed, "what was typed stays");
    await expectStatus(page, /one field needs fixing/);
    assert.equal((await settingsNow()).revision, s.revision, "nothing was saved");
  }

  await input.fill("3");
  await T("save").click();
  await expectStatus(page, /Saved/);
  assert.equal(await page.locator('[data-testid="field-error"]').count(), 0);
  const w = channelOf(await settingsNow(), ids.wa);
  assert.equal(w.members.find((m) => m.employeeId === ids.tony).weight, 3);
  await context.close();
});

test("the grid adds and removes everyone per channel and overall", async () => {
  const { page, context } = await openSettings();
  const T = (id) => page.getByTestId(id);
  const all = [ids.bruce, ids.scrooge, ids.tony, ids.constantine, ids.alfred, ids.diana];

  await T(`grid-remove-all-${ids.tg}`).click();
  await expectStatus(page, /Access changed in \d+ cell/);
  for (const e of all) assert.equal(await T(`grid-${e}-${ids.tg}`).inputValue(), String(ChannelAccessLevel.NO_ACCESS));
  assert.equal(channelOf(await settingsNow(), ids.tg).members.length, 0);
  assert.ok(channelOf(await settingsNow(), ids.wa).members.length > 0, "the other channel is untouched");

  await T(`grid-add-level`).selectOption(String(ChannelAccessLevel.READ));
  await T(`grid-add-all-${ids.tg}`).click();
  await expectStatus(page, /Access changed in \d+ cell/);
  for (const e of all) assert.equal(await T(`grid-${e}-${ids.tg}`).inputValue(), String(ChannelAccessLevel.READ));

  await T(`grid-add-level`).selectOption(String(ChannelAccessLevel.READ_WRITE));
  await T("grid-add-all").click();
  await expectStatus(page, /Access changed in \d+ cell/);
  const s = await settingsNow();
  for (const c of s.channels) {
    for (const e of all) {
      const m = c.members.find((x) => x.employeeId === e);
      assert.ok(m, `${e} is a member of ${c.channel?.name}`);
      const qc = m.role === EmployeeRole.QUALITY_CONTROL;
      assert.equal(m.access, qc ? ChannelAccess.READ_ONLY : ChannelAccess.READ_WRITE);
      assert.equal(await T(`grid-${e}-${c.channelId}`).inputValue(), String(qc ? ChannelAccessLevel.READ : ChannelAccessLevel.READ_WRITE));
    }
  }
  await T("access-grid").scrollIntoViewIfNeeded();
  await screenshot(page, "access-grid");

  await T("grid-remove-all").click();
  await expectStatus(page, /Access changed in \d+ cell/);
  for (const c of (await settingsNow()).channels) assert.equal(c.members.length, 0);
  await T(`grid-add-all`).click();
  await expectStatus(page, /Access changed in \d+ cell/);

  // With unsaved edits, a bulk change first asks what to do with them.
  await T("account-visibility").selectOption(String(GlobalChatVisibility.ALL));
  await T(`grid-remove-all-${ids.wa}`).click();
  await T("leave-dialog").waitFor();
  await T("leave-stay").click();
  assert.ok(channelOf(await settingsNow(), ids.wa).members.length > 0, "stay changes nothing");
  await T("discard").click();
  await context.close();
});

test("a channel can leave the integration and come back", async () => {
  const { page, context } = await openSettings();
  const T = (id) => page.getByTestId(id);
  const inIntegration = async () =>
    (await server.api.directory.listChannels({})).channels.find((c) => c.id === ids.tg).inIntegration;
  await T(`channel-${ids.tg}-in-integration`).uncheck();
  await expectStatus(page, /no longer in the integration/);
  assert.equal(await inIntegration(), false);
  assert.equal(await T("dirty-indicator").count(), 0, "not a settings change");
  await T(`channel-${ids.tg}-in-integration`).check();
  await expectStatus(page, /now in the integration/);
  assert.equal(await inIntegration(), true);
  await context.close();
});

test("refresh from the CRM shows what it found", async () => {
  const { page, context } = await openSettings();
  await page.getByTestId("refresh-crm").click();
  const r = page.getByTestId("refresh-result");
  await r.waitFor();
  assert.match(await r.textContent(), /6 active and 0 deactivated employees, 1 pipeline\(s\) with 4 stage\(s\), 3 lead status\(es\), 2 channel\(s\)/);
  await page.getByTestId("refresh-findings").waitFor();
  await screenshot(page, "refresh");
  await context.close();
});

test("after a save the page offers a test message and shows its outcome", async () => {
  const { page, context } = await openSettings();
  const T = (id) => page.getByTestId(id);
  await T("save").click();
  await expectStatus(page, /Saved.*test message/);
  const panel = T("test-panel");
  await panel.waitFor();
  assert.match(await panel.getAttribute("class"), /highlight/);
  await T("test-text").fill("Hello from the settings test");
  await T("send-test").click();
  const outcome = page.locator('[data-testid="test-result"], [data-testid="test-error"]');
  await outcome.first().waitFor();
  if ((await outcome.first().getAttribute("data-testid")) === "test-error") {
    assert.fail(`IntegrationService.SendTestMessage failed: ${await outcome.first().textContent()}`);
  }
  const result = await T("test-result").textContent();
  assert.match(result, /WhatsApp Sales/, "the first WhatsApp channel carries the test");
  assert.match(result, /test client/);
  await screenshot(page, "test-message");
  await context.close();
});

test("delete integration asks first, then unlinks the CRM", async () => {
  const { page, context } = await openSettings();
  const T = (id) => page.getByTestId(id);
  await T("delete-integration").click();
  await T("delete-dialog").waitFor();
  await screenshot(page, "delete-integration");
  await T("delete-cancel").click();
  assert.equal((await settingsNow()).connected, true);

  await T("delete-integration").click();
  await T("delete-confirm").click();
  await expectStatus(page, /integration was deleted/);
  assert.match(await T("connected").textContent(), /not connected/);
  const s = await settingsNow();
  assert.equal(s.connected, false);
  for (const c of s.channels) assert.equal(c.members.length, 0);

  // Saving again reconnects.
  await T("save").click();
  await expectStatus(page, /Saved/);
  assert.equal((await settingsNow()).connected, true);
  assert.match(await T("connected").textContent(), /^connected$/);
  await context.close();
});
