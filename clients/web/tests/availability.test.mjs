// Availability on the settings page: working hours and days off, presence,
// the most open clients of a channel member and the channel's rules for
// members who are away, edited in Chromium and read back from the API.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Presence, Weekday } from "@switchboard/sdk";
import { directory, launchBrowser, openPage, screenshot, startServer } from "./harness.mjs";

let server;
let browser;
let d;

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  d = await directory(server.api);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function settingsNow() {
  return (await server.api.integration.getIntegrationSettings({})).settings;
}

async function employeeNow(id) {
  const { employees } = await server.api.directory.listEmployees({ includeDeactivated: true });
  return employees.find((e) => e.id === id);
}

async function openSettings() {
  const p = await openPage(browser, server);
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

test("hours, days off, presence, most open clients and the reply deadline are saved", async () => {
  const { page, context, errors } = await openSettings();
  const T = (id) => page.getByTestId(id);
  const tony = d.employee("Tony Stark");
  const bruce = d.employee("Bruce Wayne");
  const wa = d.channel("WhatsApp Sales");
  const before = await settingsNow();

  // Presence applies at once, without Save.
  assert.equal(await T(`presence-${tony}`).inputValue(), String(Presence.ONLINE));
  await T(`presence-${tony}`).selectOption(String(Presence.AWAY));
  await expectStatus(page, /Tony Stark is now away/);
  assert.equal((await employeeNow(tony)).presence, Presence.AWAY);
  assert.equal((await settingsNow()).revision, before.revision, "presence does not move the revision");
  assert.equal(await T("dirty-indicator").count(), 0);
  assert.equal(await T(`presence-${tony}`).inputValue(), String(Presence.AWAY));

  // Working hours: Monday 09:00–18:00 and Tuesday 10:00–14:00, one day off.
  await T(`hours-${tony}-add-period`).click();
  await T(`hours-${tony}-start-0`).fill("09:00");
  await T(`hours-${tony}-end-0`).fill("18:00");
  await T(`hours-${tony}-add-period`).click();
  assert.equal(await T(`hours-${tony}-day-1`).inputValue(), String(Weekday.TUESDAY), "a new period is on the next day");
  await T(`hours-${tony}-start-1`).fill("10:00");
  await T(`hours-${tony}-end-1`).fill("14:00");
  await T(`hours-${tony}-add-day-off`).click();
  await T(`hours-${tony}-day-off-0`).fill("2026-12-31");

  // Channel: Bruce takes at most 3 open clients; 15 minutes to answer, two passes.
  await T(`member-${wa}-${bruce}-capacity`).fill("3");
  await T(`channel-${wa}-absent-keep-turn`).check();
  await T(`channel-${wa}-reply-deadline-minutes`).fill("15");
  await T(`channel-${wa}-max-passes`).fill("2");
  await T(`channel-${wa}-stream-grace-minutes`).fill("10");

  await T("dirty-indicator").waitFor();
  await T("working-hours").scrollIntoViewIfNeeded();
  await screenshot(page, "working-hours");
  await T("save").click();
  await expectStatus(page, /Saved \(revision \d+\)/);

  const s = await settingsNow();
  assert.ok(s.revision > before.revision);
  const w = s.account.workingHours.find((x) => x.employeeId === tony);
  assert.ok(w, "Tony has working hours");
  assert.deepEqual(
    w.weekly.map((p) => [p.day, p.start, p.end]),
    [
      [Weekday.MONDAY, "09:00", "18:00"],
      [Weekday.TUESDAY, "10:00", "14:00"],
    ],
  );
  assert.deepEqual([...w.daysOff], ["2026-12-31"]);
  const ch = s.channels.find((c) => c.channelId === wa);
  assert.equal(ch.members.find((m) => m.employeeId === bruce).capacity, 3);
  assert.equal(ch.availability?.absentKeepTurn, true);
  assert.equal(ch.availability?.replyDeadlineMinutes, 15);
  assert.equal(ch.availability?.maxPasses, 2);
  assert.equal(ch.availability?.streamGraceMinutes, 10);

  // The page shows the same after a reload.
  await page.reload();
  await T("settings-view").waitFor();
  assert.equal(await T(`presence-${tony}`).inputValue(), String(Presence.AWAY));
  assert.equal(await T(`hours-${tony}-start-1`).inputValue(), "10:00");
  assert.equal(await T(`hours-${tony}-day-off-0`).inputValue(), "2026-12-31");
  assert.equal(await T(`member-${wa}-${bruce}-capacity`).inputValue(), "3");
  assert.equal(await T(`channel-${wa}-reply-deadline-minutes`).inputValue(), "15");
  assert.equal(await T(`channel-${wa}-absent-keep-turn`).isChecked(), true);

  // Turning a rule on and off again leaves nothing to save.
  const tg = d.channel("Telegram Support");
  await T(`channel-${tg}-absent-keep-turn`).check();
  await T("dirty-indicator").waitFor();
  await T(`channel-${tg}-absent-keep-turn`).uncheck();
  await T(`channel-${tg}-max-passes`).fill("4");
  await T(`channel-${tg}-max-passes`).fill("0");
  assert.equal(await T("dirty-indicator").count(), 0);

  // Removing every period and day off leaves Tony working any time.
  await T(`hours-${tony}-remove-period-1`).click();
  await T(`hours-${tony}-remove-period-0`).click();
  await T(`hours-${tony}-remove-day-off-0`).click();
  await T("save").click();
  await expectStatus(page, /Saved/);
  assert.equal((await settingsNow()).account.workingHours.find((x) => x.employeeId === tony), undefined);

  await T(`presence-${tony}`).selectOption(String(Presence.ONLINE));
  await expectStatus(page, /Tony Stark is now online/);
  assert.equal((await employeeNow(tony)).presence, Presence.ONLINE);
  assert.deepEqual(errors, []);
  await context.close();
});

test("an end before the start and a deadline too long show the server's field errors", async () => {
  const { page, context } = await openSettings();
  const T = (id) => page.getByTestId(id);
  const alfred = d.employee("Alfred Pennyworth");
  const wa = d.channel("WhatsApp Sales");
  const s = await settingsNow();
  const ci = s.channels.findIndex((c) => c.channelId === wa);
  const k = s.account.workingHours.length; // Alfred's entry is added last

  await T(`hours-${alfred}-add-period`).click();
  await T(`hours-${alfred}-start-0`).fill("18:00");
  await T(`hours-${alfred}-end-0`).fill("09:00");
  await T(`channel-${wa}-reply-deadline-minutes`).fill("20000");
  await T("save").click();
  await expectStatus(page, /2 fields need fixing/);

  const endPath = `settings.account.working_hours[${k}].weekly[0].end`;
  const endErr = page.locator(`[data-testid="field-error"][data-error-for="${endPath}"]`);
  await endErr.first().waitFor();
  assert.match(await endErr.first().textContent(), /after start/);
  const end = T(`hours-${alfred}-end-0`);
  assert.equal(await end.evaluate((el) => el.nextElementSibling?.getAttribute("data-error-for")), endPath);
  assert.equal(await end.getAttribute("aria-invalid"), "true");

  const dlPath = `settings.channels[${ci}].availability.reply_deadline_minutes`;
  const dlErr = page.locator(`[data-testid="field-error"][data-error-for="${dlPath}"]`);
  await dlErr.first().waitFor();
  assert.match(await dlErr.first().textContent(), /10080/);
  await T(`hours-${alfred}-end-0`).scrollIntoViewIfNeeded();
  await screenshot(page, "working-hours-error");
  assert.equal((await settingsNow()).revision, s.revision, "nothing was saved");

  // Not a whole number: refused by the page itself, next to the input.
  const ai = s.channels[ci].members.findIndex((m) => m.employeeId === alfred);
  const capPath = `settings.channels[${ci}].members[${ai}].capacity`;
  await T(`member-${wa}-${alfred}-capacity`).fill("1.5");
  await T("save").click();
  const capErr = page.locator(`[data-testid="field-error"][data-error-for="${capPath}"]`);
  await capErr.first().waitFor();
  assert.match(await capErr.first().textContent(), /whole number/);
  assert.equal((await settingsNow()).revision, s.revision, "nothing was saved");

  // Fixed: saved.
  await T(`member-${wa}-${alfred}-capacity`).fill("0");
  await T(`hours-${alfred}-end-0`).fill("24:00");
  await T(`channel-${wa}-reply-deadline-minutes`).fill("30");
  await T("save").click();
  await expectStatus(page, /Saved/);
  const saved = await settingsNow();
  assert.deepEqual(
    saved.account.workingHours.find((x) => x.employeeId === alfred).weekly.map((p) => [p.start, p.end]),
    [["18:00", "24:00"]],
  );
  assert.equal(saved.channels[ci].availability.replyDeadlineMinutes, 30);
  await context.close();
});
