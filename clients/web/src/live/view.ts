// The live view: an employee's notification stream (the same Subscribe the
// mobile app uses) and a form to try an access check.
import {
  Code,
  codeOf,
  timestampDate,
  type Channel,
  type CheckAccessResponse,
  type Employee,
  type NotificationDecision,
} from "@switchboard/sdk";
import { api, describeError } from "../api.js";
import { formatTime, h, select } from "../dom.js";
import * as L from "../labels.js";

const GENERAL = "__general__";

/** Errors a reconnect cannot fix. */
const FINAL = new Set([
  Code.Unimplemented,
  Code.InvalidArgument,
  Code.NotFound,
  Code.PermissionDenied,
  Code.Unauthenticated,
  Code.FailedPrecondition,
]);

type StreamState = "stopped" | "connecting" | "replaying" | "live" | "reconnecting" | "error";

export class LiveView {
  private root: HTMLElement = h("div");
  private employees: Employee[] = [];
  private channels: Channel[] = [];
  private loadError = "";
  private loaded = false;

  // Stream.
  private audience = "";
  private startCursor = "";
  private abort?: AbortController;
  private state: StreamState = "stopped";
  private stateText = "";
  private cursor = "";
  private lastHeartbeat?: Date;
  private events: ({ kind: "decision"; d: NotificationDecision } | { kind: "caught-up"; truncated: boolean; at: Date })[] = [];

  // Access check.
  private check = { employeeId: "", chatId: "", channelId: "", clientId: "" };
  private checkResult?: CheckAccessResponse;
  private checkError = "";

  private els?: { status: HTMLElement; heartbeat: HTMLElement; list: HTMLElement; start: HTMLButtonElement; stop: HTMLButtonElement };

  mount(root: HTMLElement): void {
    this.root = root;
    if (this.loaded) this.render();
    else void this.load();
  }

  /** Stops the stream (leaving the view). */
  unmount(): void {
    this.stop();
  }

  private async load(): Promise<void> {
    this.root.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    try {
      const [e, c] = await Promise.all([api.directory.listEmployees({}), api.directory.listChannels({})]);
      this.employees = e.employees;
      this.channels = c.channels;
      this.audience ||= this.employees[0]?.id ?? GENERAL;
      this.check.employeeId ||= this.employees[0]?.id ?? "";
      this.check.channelId ||= this.channels[0]?.id ?? "";
      this.loaded = true;
      this.loadError = "";
    } catch (err) {
      this.loadError = describeError(err);
    }
    this.render();
  }

  private name(id: string): string {
    return this.employees.find((e) => e.id === id)?.name ?? `employee ${id}`;
  }

  // ---- stream ----

  private start(): void {
    this.stop();
    this.events = [];
    this.lastHeartbeat = undefined;
    this.cursor = this.startCursor.trim();
    const abort = new AbortController();
    this.abort = abort;
    void this.run(abort);
    this.render();
  }

  private stop(): void {
    if (this.abort) {
      this.abort.abort();
      this.abort = undefined;
      this.setState("stopped", "");
    }
  }

  private async run(abort: AbortController): Promise<void> {
    let backoff = 500;
    const general = this.audience === GENERAL;
    while (!abort.signal.aborted) {
      this.setState(this.cursor ? "replaying" : "connecting", "");
      try {
        const stream = api.notifications.subscribe(
          { employeeId: general ? "" : this.audience, generalChat: general, cursor: this.cursor },
          { signal: abort.signal },
        );
        for await (const res of stream) {
          if (abort.signal.aborted) return;
          backoff = 500;
          const ev = res.event;
          switch (ev.case) {
            case "decision":
              this.cursor = ev.value.cursor;
              this.events.unshift({ kind: "decision", d: ev.value });
              this.setState(this.state, this.stateText);
              this.renderEvents();
              break;
            case "heartbeat":
              this.cursor = ev.value.cursor || this.cursor;
              this.lastHeartbeat = ev.value.time ? timestampDate(ev.value.time) : new Date();
              this.setState("live", "");
              break;
            case "caughtUp":
              this.cursor = ev.value.cursor || this.cursor;
              this.events.unshift({ kind: "caught-up", truncated: ev.value.historyTruncated, at: new Date() });
              this.setState("live", "");
              this.renderEvents();
              break;
          }
        }
        if (abort.signal.aborted) return;
        // A clean end: the server is shutting down. Resume from the cursor.
        this.setState("reconnecting", "the server closed the stream; resuming");
      } catch (err) {
        if (abort.signal.aborted) return;
        if (FINAL.has(codeOf(err))) {
          this.abort = undefined;
          this.setState("error", describeError(err));
          return;
        }
        this.setState("reconnecting", describeError(err));
      }
      await new Promise((ok) => setTimeout(ok, backoff));
      backoff = Math.min(backoff * 2, 10_000);
    }
  }

  private setState(state: StreamState, text: string): void {
    this.state = state;
    this.stateText = text;
    if (!this.els) return;
    const labels: Record<StreamState, string> = {
      stopped: "Not subscribed",
      connecting: "Connecting…",
      replaying: "Replaying stored decisions…",
      live: "Live",
      reconnecting: "Reconnecting…",
      error: "Stopped by an error",
    };
    this.els.status.textContent = labels[state] + (text ? ` — ${text}` : "");
    this.els.status.className = `stream-state ${state}`;
    this.els.status.dataset.state = state;
    this.els.heartbeat.textContent = this.lastHeartbeat
      ? `last heartbeat ${formatTime(this.lastHeartbeat)}${this.cursor ? ` · cursor ${this.cursor}` : ""}`
      : this.cursor
        ? `cursor ${this.cursor}`
        : "";
    const running = !!this.abort;
    this.els.start.disabled = running;
    this.els.stop.disabled = !running;
  }

  private renderEvents(): void {
    if (!this.els) return;
    this.els.list.replaceChildren(
      ...(this.events.length
        ? this.events.map((e) => (e.kind === "decision" ? this.renderDecision(e.d) : this.renderCaughtUp(e.truncated, e.at)))
        : [h("li", { class: "muted" }, this.abort ? "No decisions yet. New ones appear here as they are made." : "Subscribe to see decisions.")]),
    );
  }

  private renderCaughtUp(truncated: boolean, at: Date): HTMLElement {
    return h(
      "li",
      { class: "caught-up", "data-testid": "live-caught-up" },
      `Caught up at ${formatTime(at)}: what follows is live.${truncated ? " Older decisions were pruned and are not shown." : ""}`,
    );
  }

  private renderDecision(d: NotificationDecision): HTMLElement {
    return h(
      "li",
      { class: `decision reason-${d.reason}`, "data-testid": "live-decision", "data-cursor": d.cursor, "data-chat-id": d.chatId },
      h(
        "div",
        { class: "decision-head" },
        h("strong", { "data-testid": "live-decision-reason" }, L.reasons[d.reason] ?? String(d.reason)),
        " · ",
        d.generalChat ? "general chat" : this.name(d.employeeId),
        " · ",
        h("span", { class: "muted" }, formatTime(d.createTime ? timestampDate(d.createTime) : undefined)),
      ),
      h("div", null, `${d.clientName || `client ${d.clientId}`} on ${d.channelName || `channel ${d.channelId}`}${d.channelKind ? ` (${L.channelKinds[d.channelKind]})` : ""}`),
      d.preview && h("blockquote", { "data-testid": "live-decision-preview" }, d.preview),
      d.explanation && h("div", { class: "muted" }, d.explanation),
      h(
        "div",
        { class: "decision-foot" },
        h("span", { class: "muted" }, `cursor ${d.cursor} · chat ${d.chatId}`),
        !d.generalChat &&
          d.chatId &&
          h(
            "button",
            {
              type: "button",
              class: "link",
              "data-testid": "live-check-access",
              onclick: () => {
                this.check = { employeeId: d.employeeId, chatId: d.chatId, channelId: d.channelId, clientId: d.clientId };
                void this.runCheck();
              },
            },
            "check access",
          ),
      ),
    );
  }

  // ---- access check ----

  private async runCheck(): Promise<void> {
    this.checkResult = undefined;
    this.checkError = "";
    const c = this.check;
    try {
      this.checkResult = await api.routing.checkAccess(
        c.chatId.trim()
          ? { employeeId: c.employeeId, chatId: c.chatId.trim() }
          : { employeeId: c.employeeId, channelId: c.channelId, clientId: c.clientId.trim() },
      );
    } catch (err) {
      this.checkError = describeError(err);
    }
    this.render();
  }

  // ---- rendering ----

  render(): void {
    if (!this.loaded) {
      this.root.replaceChildren(
        h("div", { class: "banner error", "data-testid": "load-error" }, this.loadError || "Could not load.", " ", h("button", { type: "button", class: "btn plain", onclick: () => void this.load() }, "Try again")),
      );
      return;
    }
    const status = h("span", { "data-testid": "live-status" });
    const heartbeat = h("span", { class: "muted", "data-testid": "live-heartbeat" });
    const list = h("ul", { class: "events", "data-testid": "live-events" });
    const start = h("button", { type: "button", class: "btn primary", "data-testid": "live-start", onclick: () => this.start() }, "Subscribe");
    const stop = h("button", { type: "button", class: "btn plain", "data-testid": "live-stop", onclick: () => this.stop() }, "Stop");
    this.els = { status, heartbeat, list, start, stop };
    this.root.replaceChildren(
      h(
        "div",
        { class: "live", "data-testid": "live-view" },
        h(
          "section",
          { class: "panel" },
          h("h2", null, "Notification stream"),
          h(
            "p",
            { class: "muted" },
            "The push decisions of one employee (or of the general chat), as the mobile app receives them: stored decisions after the cursor first, then live ones.",
          ),
          h(
            "div",
            { class: "row" },
            h(
              "label",
              null,
              "Whose notifications",
              select(
                { "data-testid": "live-employee", onchange: (e: Event) => (this.audience = (e.target as HTMLSelectElement).value) },
                [...this.employees.map((e) => ({ value: e.id, label: e.name })), { value: GENERAL, label: "General chat" }],
                this.audience,
              ),
            ),
            h(
              "label",
              null,
              "Start after cursor",
              h("input", {
                type: "text",
                "data-testid": "live-cursor",
                placeholder: "empty: new only · 0: all stored",
                value: this.startCursor,
                oninput: (e: Event) => (this.startCursor = (e.target as HTMLInputElement).value),
              }),
            ),
            start,
            stop,
          ),
          h("div", { class: "row" }, status, heartbeat),
          list,
        ),
        this.renderCheck(),
      ),
    );
    this.setState(this.state, this.stateText);
    this.renderEvents();
  }

  private renderCheck(): HTMLElement {
    const c = this.check;
    const r = this.checkResult?.access;
    return h(
      "section",
      { class: "panel", "data-testid": "access-check" },
      h("h2", null, "Try an access check"),
      h("p", { class: "muted" }, "May this employee see and answer this chat? Give a chat id, or a channel and a client id for a chat that may not exist yet."),
      h(
        "form",
        {
          class: "row",
          onsubmit: (e: Event) => {
            e.preventDefault();
            void this.runCheck();
          },
        },
        h(
          "label",
          null,
          "Employee",
          select(
            { "data-testid": "access-employee", onchange: (e: Event) => (c.employeeId = (e.target as HTMLSelectElement).value) },
            this.employees.map((e) => ({ value: e.id, label: e.name })),
            c.employeeId,
          ),
        ),
        h(
          "label",
          null,
          "Chat id",
          h("input", { type: "text", "data-testid": "access-chat", value: c.chatId, oninput: (e: Event) => (c.chatId = (e.target as HTMLInputElement).value) }),
        ),
        h("span", { class: "muted" }, "or"),
        h(
          "label",
          null,
          "Channel",
          select(
            { "data-testid": "access-channel", onchange: (e: Event) => (c.channelId = (e.target as HTMLSelectElement).value) },
            this.channels.map((ch) => ({ value: ch.id, label: ch.name })),
            c.channelId,
          ),
        ),
        h(
          "label",
          null,
          "Client id",
          h("input", { type: "text", "data-testid": "access-client", value: c.clientId, oninput: (e: Event) => (c.clientId = (e.target as HTMLInputElement).value) }),
        ),
        h("button", { type: "submit", class: "btn primary", "data-testid": "access-check-submit" }, "Check"),
      ),
      this.checkError && h("div", { class: "banner error", "data-testid": "access-error" }, this.checkError),
      r &&
        h(
          "div",
          { class: "result", "data-testid": "access-result" },
          h(
            "dl",
            null,
            h("dt", null, "Can view"),
            h("dd", { "data-testid": "access-can-view" }, r.canView ? "yes" : "no"),
            h("dt", null, "Can write"),
            h("dd", { "data-testid": "access-can-write" }, r.canWrite ? (r.writeClaims ? "yes — writing claims the client" : "yes") : "no"),
            h("dt", null, "Rule"),
            h("dd", { "data-testid": "access-rule" }, L.accessRules[r.rule] ?? String(r.rule)),
            h("dt", null, "Explanation"),
            h("dd", { "data-testid": "access-explanation" }, r.explanation || "—"),
          ),
        ),
    );
  }
}
