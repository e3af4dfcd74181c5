// What a save would change, in plain words, from PreviewSettings: who would
// gain or lose chats on which channel, and who would get the next new
// clients. Shown before Save; nothing is changed until it is confirmed.
import { AccessLevel, type PreviewSettingsResponse } from "@switchboard/sdk";

export interface Names {
  employee(id: string): string;
  channel(id: string): string;
}

const verbs: Record<string, string> = {
  [`${AccessLevel.NONE}>${AccessLevel.VIEW}`]: "would start seeing",
  [`${AccessLevel.NONE}>${AccessLevel.WRITE}`]: "would start seeing and answering",
  [`${AccessLevel.VIEW}>${AccessLevel.NONE}`]: "would stop seeing",
  [`${AccessLevel.WRITE}>${AccessLevel.NONE}`]: "would stop seeing",
  [`${AccessLevel.VIEW}>${AccessLevel.WRITE}`]: "could start answering",
  [`${AccessLevel.WRITE}>${AccessLevel.VIEW}`]: "could no longer answer",
};

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

/** One sentence per employee, channel and kind of change, biggest first. */
export function accessSentences(p: PreviewSettingsResponse, names: Names): string[] {
  const groups = new Map<string, { n: number; employee: string; channel: string; verb: string }>();
  for (const c of p.accessChanges) {
    const verb = verbs[`${c.before}>${c.after}`];
    if (!verb) continue;
    const key = `${c.employeeId}/${c.channelId}/${verb}`;
    const g = groups.get(key) ?? { n: 0, employee: c.employeeId, channel: c.channelId, verb };
    g.n++;
    groups.set(key, g);
  }
  return [...groups.values()]
    .sort((a, b) => b.n - a.n || names.employee(a.employee).localeCompare(names.employee(b.employee)))
    .map((g) => `${names.employee(g.employee)} ${g.verb} ${plural(g.n, "chat")} on ${names.channel(g.channel)}`);
}

/** Who would get the next new clients, for each channel where that changes. */
export function nextClientSentences(p: PreviewSettingsResponse, names: Names): string[] {
  const who = (ids: string[]) => {
    const seen: string[] = [];
    for (const id of ids) {
      const n = id ? names.employee(id) : "nobody (general chat)";
      if (!seen.includes(n)) seen.push(n);
    }
    return seen.join(", ");
  };
  const out: string[] = [];
  for (const n of p.nextClients) {
    const ch = names.channel(n.channelId);
    const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
    if (!same(n.beforeCandidateIds, n.afterCandidateIds) && n.afterCandidateIds.length) {
      out.push(`On ${ch}, every new client would go to the first to answer among ${who(n.afterCandidateIds)}`);
    } else if (!same(n.beforeEmployeeIds, n.afterEmployeeIds)) {
      out.push(`On ${ch}, the next ${plural(n.afterEmployeeIds.length, "new client")} would go to ${who(n.afterEmployeeIds)}`);
    }
  }
  return out;
}
