// Edits of the settings document, as the page's controls make them. The
// document is the generated IntegrationSettings message; it is saved as a
// whole, so every control edits this one draft.
import {
  ChannelAccess,
  ChannelAccessLevel,
  ChannelAvailabilitySchema,
  ChannelMemberSchema,
  create,
  EmployeeRole,
  Weekday,
  WorkingHoursSchema,
  WorkingPeriodSchema,
  type ChannelAvailability,
  type ChannelMember,
  type ChannelSettings,
  type Employee,
  type FieldViolation,
  type IntegrationSettings,
  type WorkingHours,
} from "@switchboard/sdk";

export function roleOf(m: ChannelMember): EmployeeRole {
  return m.role === EmployeeRole.UNSPECIFIED ? EmployeeRole.SALES_REP : m.role;
}

export function writes(m: ChannelMember | undefined): boolean {
  return !!m && m.access === ChannelAccess.READ_WRITE && roleOf(m) !== EmployeeRole.QUALITY_CONTROL;
}

export function member(cs: ChannelSettings, employeeId: string): ChannelMember | undefined {
  return cs.members.find((m) => m.employeeId === employeeId);
}

/** The grid cell of an employee on a channel. */
export function cellLevel(cs: ChannelSettings, employeeId: string): ChannelAccessLevel {
  const m = member(cs, employeeId);
  if (!m) return ChannelAccessLevel.NO_ACCESS;
  return m.access === ChannelAccess.READ_WRITE ? ChannelAccessLevel.READ_WRITE : ChannelAccessLevel.READ;
}

/** Why a member takes no new clients, or "" when it is eligible. */
export function ineligibility(m: ChannelMember, e: Employee | undefined): string {
  if (!m.receivesNewClients) return "does not receive new clients";
  if (roleOf(m) === EmployeeRole.QUALITY_CONTROL) return "quality control never receives clients";
  if (m.access !== ChannelAccess.READ_WRITE) return "needs read + send access";
  if (e && !e.active) return "deactivated";
  return "";
}

/** Drops the employee's default outgoing channel if it is this channel and it can no longer write there. */
function keepDefaultValid(s: IntegrationSettings, cs: ChannelSettings, employeeId: string): void {
  const a = s.account;
  if (!a || writes(member(cs, employeeId))) return;
  a.defaultOutgoingChannels = a.defaultOutgoingChannels.filter(
    (d) => !(d.employeeId === employeeId && d.channelId === cs.channelId),
  );
}

/** Sets one cell of the access grid: adds, changes or removes the member. */
export function setCellLevel(s: IntegrationSettings, cs: ChannelSettings, employeeId: string, level: ChannelAccessLevel): void {
  const i = cs.members.findIndex((m) => m.employeeId === employeeId);
  if (level === ChannelAccessLevel.NO_ACCESS) {
    if (i >= 0) cs.members.splice(i, 1);
  } else {
    const access = level === ChannelAccessLevel.READ_WRITE ? ChannelAccess.READ_WRITE : ChannelAccess.READ_ONLY;
    if (i >= 0) cs.members[i].access = access;
    else addMember(cs, employeeId, access);
  }
  keepDefaultValid(s, cs, employeeId);
}

export function addMember(cs: ChannelSettings, employeeId: string, access = ChannelAccess.READ_ONLY): void {
  if (member(cs, employeeId)) return;
  cs.members.push(
    create(ChannelMemberSchema, { employeeId, role: EmployeeRole.SALES_REP, access, receivesNewClients: false, weight: 1 }),
  );
}

export function setRole(s: IntegrationSettings, cs: ChannelSettings, m: ChannelMember, role: EmployeeRole): void {
  m.role = role;
  if (role === EmployeeRole.QUALITY_CONTROL) {
    // Quality control never writes and never takes clients.
    m.access = ChannelAccess.READ_ONLY;
    m.receivesNewClients = false;
  }
  keepDefaultValid(s, cs, m.employeeId);
}

export function setAccess(s: IntegrationSettings, cs: ChannelSettings, m: ChannelMember, access: ChannelAccess): void {
  m.access = access;
  keepDefaultValid(s, cs, m.employeeId);
}

export function moveMember(cs: ChannelSettings, index: number, by: -1 | 1): void {
  const j = index + by;
  if (j < 0 || j >= cs.members.length) return;
  const [m] = cs.members.splice(index, 1);
  cs.members.splice(j, 0, m);
}

export function removeMember(s: IntegrationSettings, cs: ChannelSettings, index: number): void {
  const [m] = cs.members.splice(index, 1);
  if (m) keepDefaultValid(s, cs, m.employeeId);
}

export function defaultChannelOf(s: IntegrationSettings, employeeId: string): string {
  return s.account?.defaultOutgoingChannels.find((d) => d.employeeId === employeeId)?.channelId ?? "";
}

/** Makes channelId the employee's default outgoing channel (clearing its previous one); "" clears. */
export function setDefaultChannel(s: IntegrationSettings, employeeId: string, channelId: string): void {
  const a = s.account;
  if (!a) return;
  const i = a.defaultOutgoingChannels.findIndex((d) => d.employeeId === employeeId);
  if (!channelId) {
    if (i >= 0) a.defaultOutgoingChannels.splice(i, 1);
  } else if (i >= 0) {
    a.defaultOutgoingChannels[i].channelId = channelId;
  } else {
    a.defaultOutgoingChannels.push({ $typeName: "switchboard.v1.DefaultOutgoingChannel", employeeId, channelId });
  }
}

export function setChatAdmin(s: IntegrationSettings, employeeId: string, on: boolean): void {
  const a = s.account;
  if (!a) return;
  const ids = a.chatAdminEmployeeIds.filter((id) => id !== employeeId);
  if (on) ids.push(employeeId);
  a.chatAdminEmployeeIds = ids;
}

/** Marks a weight input that holds no whole number (empty, "abc", "1.5"). */
export const NOT_A_WEIGHT = -1;

/**
 * Parses a weight input as typed: a whole number as it is (0 too: the API
 * would read 0 as "the default, 1", so the page refuses it before saving),
 * anything else NOT_A_WEIGHT.
 */
export function parseWeight(text: string): number {
  const t = text.trim();
  const n = Number(t);
  if (t === "" || !Number.isFinite(n) || !Number.isInteger(n)) return NOT_A_WEIGHT;
  return Math.max(-2147483648, Math.min(2147483647, n));
}

/** What a weight input shows: the number, or empty when none was typed. */
export function weightText(w: number): string {
  return w === NOT_A_WEIGHT ? "" : String(w);
}

/** The weights of a draft that may not be sent: not a whole number in 1..100. */
export function weightViolations(s: IntegrationSettings): FieldViolation[] {
  const out: FieldViolation[] = [];
  s.channels.forEach((c, ci) =>
    c.members.forEach((m, mi) => {
      if (m.weight >= 1 && m.weight <= 100) return;
      out.push({
        field: `settings.channels[${ci}].members[${mi}].weight`,
        description:
          m.weight === NOT_A_WEIGHT ? "enter a whole number between 1 and 100" : `must be between 1 and 100, got ${m.weight}`,
      });
    }),
  );
  return out;
}

/** Marks a count input (capacity, minutes, passes) that holds no whole number of 0 or more. */
export const NOT_A_COUNT = -1;

/** Parses a count input: empty is 0 (off, no limit), a whole number as it is, anything else NOT_A_COUNT. */
export function parseCount(text: string): number {
  const t = text.trim();
  if (t === "") return 0;
  const n = Number(t);
  if (!Number.isFinite(n) || !Number.isInteger(n) || n < 0) return NOT_A_COUNT;
  return Math.min(2147483647, n);
}

export function countText(n: number): string {
  return n === NOT_A_COUNT ? "" : String(n);
}

/** The counts of a draft that are no whole number (the server checks the ranges). */
export function countViolations(s: IntegrationSettings): FieldViolation[] {
  const out: FieldViolation[] = [];
  const bad = (field: string) => out.push({ field, description: "enter a whole number, 0 or more" } as FieldViolation);
  s.channels.forEach((c, ci) => {
    c.members.forEach((m, mi) => {
      if (m.capacity === NOT_A_COUNT) bad(`settings.channels[${ci}].members[${mi}].capacity`);
    });
    const a = c.availability;
    if (a?.replyDeadlineMinutes === NOT_A_COUNT) bad(`settings.channels[${ci}].availability.reply_deadline_minutes`);
    if (a?.maxPasses === NOT_A_COUNT) bad(`settings.channels[${ci}].availability.max_passes`);
    if (a?.streamGraceMinutes === NOT_A_COUNT) bad(`settings.channels[${ci}].availability.stream_grace_minutes`);
  });
  return out;
}

/** The channel's availability rules, created (all off) when the channel has none yet. */
export function availabilityOf(cs: ChannelSettings): ChannelAvailability {
  cs.availability ??= create(ChannelAvailabilitySchema);
  return cs.availability;
}

/** Drops the channel's availability rules when all are off: the server reads and returns them as unset. */
export function tidyAvailability(cs: ChannelSettings): void {
  const a = cs.availability;
  if (a && !a.absentKeepTurn && !a.replyDeadlineMinutes && !a.maxPasses && !a.streamGraceMinutes) cs.availability = undefined;
}

/** The index of the employee's working hours in the account settings, or -1. */
export function hoursIndex(s: IntegrationSettings, employeeId: string): number {
  return s.account?.workingHours.findIndex((w) => w.employeeId === employeeId) ?? -1;
}

/** The employee's working hours, created (empty: works any time) when it has none. */
export function hoursOf(s: IntegrationSettings, employeeId: string): WorkingHours {
  const a = s.account!;
  let w = a.workingHours.find((x) => x.employeeId === employeeId);
  if (!w) {
    w = create(WorkingHoursSchema, { employeeId });
    a.workingHours.push(w);
  }
  return w;
}

/** Drops the employee's entry when it has neither periods nor days off (the same as no entry). */
export function dropEmptyHours(s: IntegrationSettings, employeeId: string): void {
  const a = s.account;
  if (!a) return;
  a.workingHours = a.workingHours.filter((w) => w.employeeId !== employeeId || w.weekly.length || w.daysOff.length);
}

/** Adds a period: the day after the last one (Monday first), 09:00–18:00. */
export function addPeriod(s: IntegrationSettings, employeeId: string): void {
  const w = hoursOf(s, employeeId);
  const last = w.weekly[w.weekly.length - 1];
  const day = last ? ((last.day % 7) + 1) as Weekday : Weekday.MONDAY;
  w.weekly.push(create(WorkingPeriodSchema, { day, start: last?.start ?? "09:00", end: last?.end ?? "18:00" }));
}

export function removePeriod(s: IntegrationSettings, employeeId: string, index: number): void {
  hoursOf(s, employeeId).weekly.splice(index, 1);
  dropEmptyHours(s, employeeId);
}

export function addDayOff(s: IntegrationSettings, employeeId: string, date: string): void {
  hoursOf(s, employeeId).daysOff.push(date);
}

export function removeDayOff(s: IntegrationSettings, employeeId: string, index: number): void {
  hoursOf(s, employeeId).daysOff.splice(index, 1);
  dropEmptyHours(s, employeeId);
}
