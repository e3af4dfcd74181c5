// The team view: chats waiting for an answer per employee and channel,
// kept current while the view is open, and the assignment history of a
// client.
import {
  AssignmentCause,
  timestampDate,
  type AssignmentEvent,
  type Channel,
  type Employee,
  type UnansweredCounters,
} from "@switchboard/sdk";
import { api, describeError } from "../api.js";
import { formatTime, h } from "../dom.js";

/** How often the counters are read while the view is open. */
const REFRESH_MS = 2000;

const causes: Record<number, string> = {
  [AssignmentCause.DISTRIBUTION]: "distribution",
  [AssignmentCause.CLAIM]: "claimed by replying first",
  [AssignmentCause.TRANSFER]: "transfer",
  [AssignmentCause.CRM_WEBHOOK]: "the CRM",
  [AssignmentCause.CRM_CONTACT]: "the CRM's contact",
  [AssignmentCause.REPLY_DEADLINE]: "reply deadline",
  [AssignmentCause.SETTINGS_EDIT]: "settings edit",
};

function wait(seconds: bigint): string {
  const s = Number(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d`;
}

export class TeamView {
  private root: HTMLElement = h("div", { "data-testid": "team-view" });
  private employees: Employee[] = [];
  private channels: Channel[] = [];
  private counters?: UnansweredCounters;
  private error = "";
  private timer?: ReturnType<typeof setInterval>;
  private history?: AssignmentEvent[];
  private historyError = "";
  private clientInput = h("input", { type: "text", id: "history-client", "data-testid": "history-client", placeholder: "client id" });

  mount(into: HTMLElement): void {
    into.replaceChildren(this.root);
    void this.load();
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
  }

  unmount(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async load(): Promise<void> {
    try {
      const [e, c] = await Promise.all([api.directory.listEmployees({ includeDeactivated: true }), api.directory.listChannels({})]);
      this.employees = e.employees;
      this.channels = c.channels;
    } catch (err) {
      this.error = describeError(err);
    }
    await this.refresh();
  }

  private async refresh(): Promise<void> {
    try {
      this.counters = (await api.supervision.getUnansweredCounters({})).counters;
      this.error = "";
    } catch (err) {
      this.error = describeError(err);
    }
    this.render();
  }

  private employee(id: string): string {
    return id ? (this.employees.find((e) => e.id === id)?.name ?? `employee ${id}`) : "nobody";
  }

  private channel(id: string): string {
    return this.channels.find((c) => c.id === id)?.name ?? `channel ${id}`;
  }

  private async showHistory(): Promise<void> {
    const clientId = this.clientInput.value.trim();
    try {
      this.history = (await api.supervision.listAssignmentHistory({ clientId, pageSize: 50 })).events;
      this.historyError = "";
    } catch (err) {
      this.history = undefined;
      this.historyError = describeError(err);
    }
    this.render();
  }

  private render(): void {
    const c = this.counters;
    const rows = (c?.employees ?? []).map((e) =>
      h(
        "tr",
        { "data-testid": `waiting-employee-${e.employeeId}` },
        h("td", null, this.employee(e.employeeId)),
        h("td", null, String(e.count?.chats ?? 0)),
        h("td", null, e.count?.chats ? wait(e.count.oldestWaitSeconds) : "—"),
      ),
    );
    const chans = (c?.channels ?? []).map((ch) =>
      h(
        "tr",
        { "data-testid": `waiting-channel-${ch.channelId}` },
        h("td", null, this.channel(ch.channelId)),
        h("td", null, String(ch.count?.chats ?? 0)),
        h("td", null, String(ch.unassignedChats)),
        h("td", null, ch.count?.chats ? wait(ch.count.oldestWaitSeconds) : "—"),
      ),
    );
    const events = (this.history ?? []).map((e) =>
      h(
        "li",
        { "data-testid": "history-entry" },
        h("span", { class: "muted" }, formatTime(e.createTime ? timestampDate(e.createTime) : undefined)),
        ` ${this.employee(e.fromEmployeeId)} → ${this.employee(e.toEmployeeId)} (${causes[e.cause] ?? "change"}` +
          `${e.actor?.name ? `, by ${e.actor.name}` : ""}): ${e.explanation}`,
      ),
    );
    this.root.replaceChildren(
      h(
        "section",
        { class: "panel" },
        h("h2", null, "Waiting for an answer"),
        h("p", { class: "muted" }, "Chats whose last message is the client's, updated every few seconds."),
        this.error && h("div", { class: "banner error", "data-testid": "team-error" }, this.error),
        h("p", { "data-testid": "waiting-total" }, `${c?.total?.chats ?? 0} chats waiting, ${c?.unassigned?.chats ?? 0} with nobody responsible.`),
        h("table", null, h("thead", null, h("tr", null, h("th", null, "Employee"), h("th", null, "Chats"), h("th", null, "Longest wait"))), h("tbody", null, rows)),
        h(
          "table",
          null,
          h("thead", null, h("tr", null, h("th", null, "Channel"), h("th", null, "Chats"), h("th", null, "Nobody responsible"), h("th", null, "Longest wait"))),
          h("tbody", null, chans),
        ),
      ),
      h(
        "section",
        { class: "panel" },
        h("h2", null, "A client's history"),
        h(
          "form",
          {
            onsubmit: (e: Event) => {
              e.preventDefault();
              void this.showHistory();
            },
          },
          h("label", { for: "history-client" }, "Client "),
          this.clientInput,
          h("button", { type: "submit", class: "btn", "data-testid": "history-show" }, "Show history"),
        ),
        this.historyError && h("div", { class: "banner error", "data-testid": "history-error" }, this.historyError),
        this.history && (events.length ? h("ul", { "data-testid": "history-list" }, events) : h("p", { class: "muted" }, "No changes recorded.")),
      ),
    );
  }
}
