// The "Integration with CRM" settings view: every setting of the account and
// of each channel, saved as one document with its revision.
import {
  AccountSettingsSchema,
  ChannelAccess,
  ChannelAccessLevel,
  clone,
  Code,
  codeOf,
  CrmKind,
  create,
  DealTargetSchema,
  DistributionMode,
  EmployeeRole,
  equals,
  fieldViolations,
  IntegrationSettingsSchema,
  isStaleRevision,
  LeadTargetSchema,
  NewClientEntitySchema,
  RepeatClientPolicy,
  SaveMessagesMode,
  GlobalChatVisibility,
  Presence,
  timestampDate,
  type AccountSettings,
  type ChannelSettings,
  type ConnectCrmResponse,
  type Employee,
  type FieldViolation,
  type IntegrationSettings,
  type LeadStatus,
  type Pipeline,
  type RefreshFromCrmResponse,
  type SendTestMessageResponse,
  type SetChannelAccessResponse,
  toJsonString,
} from "@switchboard/sdk";
import { api, describeError } from "../api.js";
import { askLeave, choose } from "../dialog.js";
import { accessSentences, nextClientSentences } from "./preview.js";
import { formatTime, h, select } from "../dom.js";
import * as L from "../labels.js";
import { showViolations } from "../violations.js";
import { CrmPanel, CrmSyncPanel } from "./crm.js";
import * as M from "./model.js";

type Banner = { kind: "ok" | "error" | "conflict" | "info"; text: string } | undefined;

export class SettingsView {
  private root: HTMLElement = h("div");
  private content: HTMLElement = h("div");
  private footer: HTMLElement = h("div", { class: "footer-slot" });
  private saved?: IntegrationSettings;
  private draft?: IntegrationSettings;
  private employees: Employee[] = [];
  private pipelines: Pipeline[] = [];
  private leadStatuses: LeadStatus[] = [];
  private violations: FieldViolation[] = [];
  private banner: Banner;
  private conflict = false;
  private busy = false;
  private justSaved = false;
  private refreshResult?: RefreshFromCrmResponse;
  private testResult?: { ok: SendTestMessageResponse } | { error: string };
  private accessResult?: SetChannelAccessResponse;
  private addLevel: ChannelAccessLevel = ChannelAccessLevel.READ_WRITE;
  private loadError = "";
  private crm = new CrmPanel({
    settle: () => this.settle(),
    connected: (res) => this.connected(res),
    disconnect: () => this.deleteIntegration(),
  });
  private sync = new CrmSyncPanel();
  /** Called when dirtiness may have changed (the shell shows it). */
  onDirtyChange: () => void = () => {};

  mount(root: HTMLElement): void {
    this.root = root;
    root.replaceChildren(this.content, this.footer);
    if (this.draft) this.render();
    else void this.load();
  }

  isDirty(): boolean {
    return !!this.saved && !!this.draft && !equals(IntegrationSettingsSchema, this.saved, this.draft);
  }

  /** Loads everything from the server, dropping the draft. */
  async load(): Promise<void> {
    this.busy = true;
    this.renderLoading();
    try {
      const [settings, employees, pipelines] = await Promise.all([
        api.integration.getIntegrationSettings({}),
        api.directory.listEmployees({ includeDeactivated: true }),
        api.directory.listPipelines({}),
      ]);
      this.setSaved(settings.settings!);
      this.employees = employees.employees;
      this.pipelines = pipelines.pipelines;
      this.leadStatuses = pipelines.leadStatuses;
      this.violations = [];
      this.conflict = false;
      this.loadError = "";
    } catch (err) {
      this.loadError = describeError(err);
    } finally {
      this.busy = false;
    }
    this.render();
  }

  private setSaved(s: IntegrationSettings): void {
    // The server always sends the account part; a document without one
    // would not render, so give it the empty one it stands for.
    s.account ??= create(AccountSettingsSchema);
    this.saved = s;
    this.draft = clone(IntegrationSettingsSchema, s);
    this.dirtyChanged();
  }

  /** Updates what shows unsaved changes: the footer bar and the shell. */
  private dirtyChanged(): void {
    const dirty = this.isDirty();
    this.footer.replaceChildren(
      dirty
        ? h(
            "div",
            { class: "footer", "data-testid": "dirty-bar" },
            h("span", { "data-testid": "dirty-indicator" }, "You have unsaved changes."),
            h("button", { type: "button", class: "btn primary", "data-testid": "footer-save", disabled: this.busy || this.conflict, onclick: () => void this.save() }, "Save"),
            h("button", { type: "button", class: "btn plain", "data-testid": "discard", onclick: () => this.discard() }, "Discard"),
            h("div", { class: "preview", "data-testid": "preview-panel", "aria-live": "polite" }),
          )
        : "",
    );
    this.renderPreview();
    this.schedulePreview();
    for (const b of this.content.querySelectorAll<HTMLButtonElement>('[data-testid="send-test"]')) b.disabled = this.busy || dirty;
    this.onDirtyChange();
  }

  discard(): void {
    if (this.saved) this.setSaved(this.saved);
    this.violations = [];
    this.banner = { kind: "info", text: "Changes discarded." };
    this.render();
  }

  /** Saves the draft with its revision. Resolves true when saved. */
  async save(): Promise<boolean> {
    const draft = this.draft;
    if (!draft || this.busy) return false;
    // A weight the user typed is sent only if it is one: 0, empty or
    // out of range is refused here, next to its input, never replaced.
    const local = [...M.weightViolations(draft), ...M.countViolations(draft)];
    if (local.length) {
      this.violations = local;
      this.banner = {
        kind: "error",
        text: `Not saved: ${local.length === 1 ? "one field needs" : `${local.length} fields need`} fixing — see the marked fields.`,
      };
      this.render();
      return false;
    }
    this.busy = true;
    this.violations = [];
    this.banner = { kind: "info", text: "Saving…" };
    this.render();
    let ok = false;
    try {
      const res = await api.integration.updateIntegrationSettings({ settings: draft });
      this.setSaved(res.settings!);
      this.justSaved = true;
      this.testResult = undefined;
      this.banner = {
        kind: "ok",
        text: `Saved (revision ${res.settings!.revision}).${res.settings!.testMessageAvailable ? " You can send a test message now to check the whole path." : ""}`,
      };
      ok = true;
    } catch (err) {
      this.failed(err, "Not saved");
    } finally {
      this.busy = false;
    }
    this.render();
    if (ok && this.justSaved) this.root.querySelector<HTMLElement>('[data-testid="test-panel"]')?.scrollIntoView({ block: "nearest" });
    return ok;
  }

  /**
   * Asks the server, a moment after the draft last changed, what saving it
   * would change (PreviewSettings: nothing is saved) and shows it in plain
   * words above the Save button.
   */
  private schedulePreview(): void {
    clearTimeout(this.previewTimer);
    const draft = this.draft;
    if (!draft || !this.isDirty()) {
      this.previewLines = undefined;
      return;
    }
    const key = toJsonString(IntegrationSettingsSchema, draft);
    if (key === this.previewKey) return;
    this.previewTimer = setTimeout(async () => {
      this.previewKey = key;
      let lines: string[];
      try {
        const p = await api.supervision.previewSettings({ settings: draft });
        const names = {
          employee: (id: string) => this.employees.find((e) => e.id === id)?.name ?? `employee ${id}`,
          channel: (id: string) => draft.channels.find((c) => c.channelId === id)?.channel?.name ?? `channel ${id}`,
        };
        lines = [...accessSentences(p, names), ...nextClientSentences(p, names)];
        if (!lines.length) lines = [`No one would gain or lose any of the ${p.chatsCompared} most recent chats, and new clients would go where they go now.`];
      } catch {
        lines = []; // Save shows what is wrong with the draft
      }
      if (this.previewKey !== key) return;
      this.previewLines = lines;
      this.renderPreview();
    }, 400);
  }

  private previewTimer?: ReturnType<typeof setTimeout>;
  private previewKey = "";
  private previewLines?: string[];

  private renderPreview(): void {
    const slot = this.footer.querySelector('[data-testid="preview-panel"]');
    if (!slot) return;
    const lines = this.isDirty() ? (this.previewLines ?? []) : [];
    slot.replaceChildren(
      ...(lines.length ? [h("strong", null, "If you save: "), h("ul", null, lines.map((l) => h("li", null, l)))] : []),
    );
  }

  /** Shows an error of a call that changes settings. */
  private failed(err: unknown, what: string): void {
    if (isStaleRevision(err)) {
      this.conflict = true;
      this.banner = {
        kind: "conflict",
        text: "Someone else changed the settings since you opened them, so yours were not saved (nothing was overwritten). Reload to get the current settings, then make your change again.",
      };
    } else if (codeOf(err) === Code.InvalidArgument) {
      this.violations = fieldViolations(err);
      const n = this.violations.length;
      this.banner = {
        kind: "error",
        text: n ? `${what}: ${n === 1 ? "one field needs" : `${n} fields need`} fixing — see the marked fields.` : `${what}: ${describeError(err)}`,
      };
    } else {
      this.banner = { kind: "error", text: `${what}: ${describeError(err)}` };
    }
  }

  /** Asks what to do with unsaved changes before an action that needs the saved state. */
  private async settle(): Promise<boolean> {
    if (!this.isDirty()) return true;
    const c = await askLeave();
    if (c === "save") return this.save();
    if (c === "discard") {
      this.discard();
      return true;
    }
    return false;
  }

  private async reload(): Promise<void> {
    if (this.isDirty() && !this.conflict) {
      const c = await choose({
        title: "Reload the settings?",
        text: "Your unsaved changes will be lost.",
        choices: [
          { value: "reload", label: "Reload", testid: "reload-confirm", kind: "danger" },
          { value: "stay", label: "Stay", testid: "reload-cancel" },
        ],
        cancel: "stay",
      });
      if (c !== "reload") return;
    }
    this.banner = undefined;
    await this.load();
  }

  private async reloadAfterConflict(): Promise<void> {
    this.banner = { kind: "info", text: "Reloaded the current settings: make your change again." };
    await this.load();
  }

  private async deleteIntegration(): Promise<void> {
    const c = await choose({
      title: "Delete the integration?",
      text:
        "Every channel leaves the integration; channel members and routing settings return to their defaults. " +
        "Clients, chats, messages, employees and pipelines are kept. Saving settings again reconnects." +
        (this.saved?.crmConnection ? " The CRM's token is forgotten: connect the CRM again to use it." : "") +
        (this.isDirty() ? " Your unsaved changes will be lost." : ""),
      choices: [
        { value: "delete", label: "Delete integration", testid: "delete-confirm", kind: "danger" },
        { value: "cancel", label: "Cancel", testid: "delete-cancel" },
      ],
      cancel: "cancel",
      testid: "delete-dialog",
    });
    if (c !== "delete" || !this.saved) return;
    this.busy = true;
    try {
      const res = await api.integration.deleteIntegration({ revision: this.saved.revision });
      this.setSaved(res.settings!);
      this.violations = [];
      this.justSaved = false;
      this.refreshResult = undefined;
      this.banner = { kind: "ok", text: "The integration was deleted. Save the settings to connect again." };
    } catch (err) {
      this.failed(err, "Not deleted");
    } finally {
      this.busy = false;
    }
    this.render();
  }

  /** After ConnectCrm: shows what changed and reads the settings, employees and pipelines the CRM gave. */
  private async connected(res: ConnectCrmResponse): Promise<void> {
    this.refreshResult = res.refresh;
    this.banner = undefined;
    if (res.settings) this.setSaved(res.settings);
    await this.load();
  }

  private async refreshFromCrm(): Promise<void> {
    this.busy = true;
    this.banner = { kind: "info", text: "Reading the CRM…" };
    this.render();
    try {
      const r = await api.integration.refreshFromCrm({});
      this.refreshResult = r;
      for (const doc of [this.saved, this.draft]) if (doc?.crmConnection) doc.crmConnection.refreshTime = r.refreshTime;
      const [employees, pipelines] = await Promise.all([
        api.directory.listEmployees({ includeDeactivated: true }),
        api.directory.listPipelines({}),
      ]);
      this.employees = employees.employees;
      this.pipelines = pipelines.pipelines;
      this.leadStatuses = pipelines.leadStatuses;
      this.banner = { kind: "ok", text: "Data refreshed from the CRM." };
    } catch (err) {
      this.refreshResult = undefined;
      this.banner = { kind: "error", text: `Refresh failed: ${describeError(err)}` };
    } finally {
      this.busy = false;
    }
    this.render();
  }

  private async sendTest(text: string): Promise<void> {
    if (this.isDirty()) return;
    this.busy = true;
    this.testResult = undefined;
    this.render();
    try {
      this.testResult = { ok: await api.integration.sendTestMessage({ text }) };
    } catch (err) {
      this.testResult = { error: describeError(err) };
    } finally {
      this.busy = false;
    }
    this.render();
  }

  private async removeTestClient(): Promise<void> {
    try {
      const res = await api.integration.removeTestClient({});
      this.banner = { kind: "ok", text: res.removed ? "The test client was removed." : "There was no test client." };
      this.testResult = undefined;
    } catch (err) {
      this.banner = { kind: "error", text: `Could not remove the test client: ${describeError(err)}` };
    }
    this.render();
  }

  /** Includes or excludes a channel: a channel property, applied at once and not part of the saved document. */
  private async setInIntegration(channelId: string, on: boolean): Promise<void> {
    this.busy = true;
    try {
      const res = await api.directory.updateChannel({ channelId, inIntegration: on });
      for (const doc of [this.saved, this.draft]) {
        const cs = doc?.channels.find((c) => c.channelId === channelId);
        if (cs) cs.channel = res.channel;
      }
      this.banner = { kind: "ok", text: `${res.channel?.name} is ${on ? "now" : "no longer"} in the integration.` };
    } catch (err) {
      this.banner = { kind: "error", text: `Channel not changed: ${describeError(err)}` };
    } finally {
      this.busy = false;
    }
    this.render();
  }

  private async setOpenChannels(channelId: string, on: boolean): Promise<void> {
    this.busy = true;
    try {
      const res = await api.directory.updateChannel({ channelId, openChannels: on });
      for (const doc of [this.saved, this.draft]) {
        const cs = doc?.channels.find((c) => c.channelId === channelId);
        if (cs) cs.channel = res.channel;
      }
      this.banner = { kind: "ok", text: `${res.channel?.name} is ${on ? "now" : "no longer"} handled by Bitrix24's Open Channels.` };
    } catch (err) {
      this.banner = { kind: "error", text: `Channel not changed: ${describeError(err)}` };
    } finally {
      this.busy = false;
    }
    this.render();
  }

  /**
   * The steps that let operators write first on a channel of Bitrix24's
   * Open Channels: a role that may write, and the channel as their default
   * outgoing channel; who is ready and who misses which step.
   */
  private renderOpenChannels(s: IntegrationSettings, cs: ChannelSettings): HTMLElement {
    const cid = cs.channelId;
    const active = new Set(this.employees.filter((e) => e.active).map((e) => e.id));
    const writers = cs.members.filter(
      (m) => active.has(m.employeeId) && M.roleOf(m) !== EmployeeRole.QUALITY_CONTROL && m.access === ChannelAccess.READ_WRITE,
    );
    const ready = writers.filter((m) => M.defaultChannelOf(s, m.employeeId) === cid);
    const missing = writers.filter((m) => M.defaultChannelOf(s, m.employeeId) !== cid);
    const names = (ms: typeof writers) => ms.map((m) => this.employeeName(m.employeeId)).join(", ");
    return h(
      "div",
      { class: "banner info", "data-testid": `channel-${cid}-open-channels-steps` },
      h(
        "div",
        null,
        h("p", null, "Bitrix24 sends an operator's first message to a client through the operator's default outgoing channel. To write first on this channel:"),
      h(
        "ol",
        null,
        h("li", null, "give the operator a role that may send here (sales rep or manager, read + send) in the table below;"),
        h("li", null, "make this channel the operator's default outgoing channel (the dot in the access grid), then save."),
      ),
      h("p", { "data-testid": `channel-${cid}-open-channels-ready` }, ready.length ? `Ready: ${names(ready)}.` : "Nobody is ready yet."),
        missing.length ? h("p", { "data-testid": `channel-${cid}-open-channels-missing` }, `Step 2 missing for ${names(missing)}.`) : null,
      ),
    );
  }

  /** The grid's bulk buttons: applied on the server at once, then reloaded. */
  private async bulkAccess(level: ChannelAccessLevel, channelId?: string): Promise<void> {
    if (this.isDirty() && !(await this.settle())) return;
    if (!this.saved) return;
    this.busy = true;
    this.banner = { kind: "info", text: "Changing access…" };
    this.render();
    try {
      this.accessResult = await api.directory.setChannelAccess({
        allEmployees: true,
        allChannels: !channelId,
        channelIds: channelId ? [channelId] : [],
        level,
        revision: this.saved.revision,
      });
      const res = await api.integration.getIntegrationSettings({});
      this.setSaved(res.settings!);
      this.violations = [];
      this.banner = { kind: "ok", text: `Access changed in ${this.accessResult.changed} cell(s).` };
    } catch (err) {
      this.accessResult = undefined;
      this.failed(err, "Access not changed");
    } finally {
      this.busy = false;
    }
    this.render();
  }

  // ---- rendering ----

  private renderLoading(): void {
    if (!this.draft) this.content.replaceChildren(h("p", { class: "muted", "data-testid": "settings-loading" }, "Loading settings…"));
  }

  private employee(id: string): Employee | undefined {
    return this.employees.find((e) => e.id === id);
  }

  private employeeName(id: string): string {
    const e = this.employee(id);
    return e ? e.name + (e.active ? "" : " (deactivated)") : `employee ${id}`;
  }

  /** Re-renders after a control changed the draft; keeps the focus on the same control. */
  private changed(structural = false): void {
    if (structural) this.violations = [];
    this.dirtyChanged();
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.testid;
    this.render();
    if (focused) this.root.querySelector<HTMLElement>(`[data-testid="${CSS.escape(focused)}"]`)?.focus();
  }

  render(): void {
    const s = this.draft;
    if (!s) {
      this.content.replaceChildren(
        h(
          "div",
          { class: "banner error", "data-testid": "load-error" },
          this.loadError || "The settings could not be loaded.",
          " ",
          h("button", { class: "btn plain", type: "button", onclick: () => void this.load() }, "Try again"),
        ),
      );
      return;
    }
    const general = h("ul", { class: "general-errors", "data-testid": "general-errors", "data-errors-for": "settings" });
    const view = h(
      "div",
      { class: "settings", "data-testid": "settings-view" },
      this.renderToolbar(s),
      general,
      this.crm.show(this.saved ?? s),
      this.renderRefreshResult(),
      this.saved?.crmConnection ? this.sync.show() : null,
      this.renderTestPanel(),
      this.renderAccount(s),
      this.renderHours(s),
      h("h2", null, "Channels"),
      s.channels.length ? s.channels.map((cs, i) => this.renderChannel(s, cs, i)) : h("p", { class: "muted" }, "The account has no channels yet."),
      this.renderGrid(s),
    );
    this.content.replaceChildren(view);
    if (this.violations.length) {
      showViolations(view, this.violations, general);
      this.crm.show(this.saved ?? s); // its own field errors, which the line above cleared
    }
    this.dirtyChanged();
  }

  private renderToolbar(s: IntegrationSettings): HTMLElement {
    const b = this.banner;
    return h(
      "section",
      { class: "toolbar" },
      h(
        "div",
        { class: "summary" },
        h("span", { "data-testid": "crm-kind" }, `CRM: ${L.crmKinds[s.crmKind] ?? s.crmKind}`),
        h(
          "span",
          { class: s.connected ? "badge ok" : "badge off", "data-testid": "connected" },
          s.connected ? "connected" : "not connected",
        ),
        h("span", { "data-testid": "revision" }, `revision ${s.revision}`),
        h("span", { class: "muted" }, `updated ${formatTime(s.updateTime ? timestampDate(s.updateTime) : undefined)}`),
      ),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "btn primary", "data-testid": "save", disabled: this.busy || this.conflict, onclick: () => void this.save() }, "Save"),
        h("button", { type: "button", class: "btn plain", "data-testid": "reload", disabled: this.busy, onclick: () => void this.reload() }, "Reload"),
        h("button", { type: "button", class: "btn plain", "data-testid": "refresh-crm", disabled: this.busy, onclick: () => void this.refreshFromCrm() }, "Refresh data from the CRM"),
        h("button", { type: "button", class: "btn danger", "data-testid": "delete-integration", disabled: this.busy || (!s.connected && !s.crmConnection), onclick: () => void this.deleteIntegration() }, "Delete integration"),
      ),
      b &&
        h(
          "div",
          { class: `banner ${b.kind}`, role: b.kind === "info" ? "status" : "alert", "data-testid": b.kind === "conflict" ? "conflict-banner" : "status" },
          b.text,
          b.kind === "conflict" &&
            h("button", { type: "button", class: "btn primary", "data-testid": "conflict-reload", onclick: () => void this.reloadAfterConflict() }, "Reload"),
        ),
    );
  }

  private renderTestPanel(): HTMLElement | null {
    if (!this.saved?.testMessageAvailable) return null;
    const text = h("input", { type: "text", "data-testid": "test-text", placeholder: "Hello! This is a test message.", "aria-label": "Test message text" });
    const r = this.testResult;
    return h(
      "section",
      { class: `panel test-panel${this.justSaved ? " highlight" : ""}`, "data-testid": "test-panel" },
      h("h2", null, "Send a test message"),
      h(
        "p",
        { class: "muted" },
        "A built-in test client writes to the first WhatsApp, WABA or Telegram channel, so you can see who gets the client, who sees the chat and who is notified.",
      ),
      h(
        "div",
        { class: "row" },
        text,
        h("button", { type: "button", class: "btn primary", "data-testid": "send-test", disabled: this.busy || this.isDirty(), onclick: () => void this.sendTest(text.value) }, "Send test message"),
        h("button", { type: "button", class: "btn plain", "data-testid": "remove-test-client", disabled: this.busy, onclick: () => void this.removeTestClient() }, "Remove test client"),
      ),
      this.isDirty() && h("p", { class: "muted" }, "Save your changes first: the test uses the saved settings."),
      r && "error" in r && h("div", { class: "banner error", "data-testid": "test-error" }, `The test message failed: ${r.error}`),
      r && "ok" in r && this.renderTestResult(r.ok),
    );
  }

  private renderTestResult(r: SendTestMessageResponse): HTMLElement {
    const d = r.decision;
    const a = d?.assignment;
    return h(
      "div",
      { class: "result", "data-testid": "test-result" },
      h(
        "dl",
        null,
        h("dt", null, "Channel"),
        h("dd", null, r.channel?.name ?? "—"),
        h("dt", null, "Client"),
        h("dd", null, `${d?.client?.name || d?.client?.phone || "—"}${d?.client?.isTest ? " (test client)" : ""}${d?.newClient ? ", new" : ""}`),
        h("dt", null, "Deal / lead"),
        h("dd", null, L.entityActions[d?.entityAction ?? 0]),
        h("dt", null, "Responsible"),
        h(
          "dd",
          { "data-testid": "test-responsible" },
          a ? `${a.responsibleEmployeeId ? this.employeeName(a.responsibleEmployeeId) : "nobody"} — ${L.responsibleSources[a.source]}${a.explanation ? `: ${a.explanation}` : ""}` : "—",
        ),
        h("dt", null, "Who sees the chat"),
        h("dd", null, d?.viewers.length ? d.viewers.map((v) => `${v.employeeName || this.employeeName(v.employeeId)}${v.access?.canWrite ? " (writes)" : ""}`).join(", ") : "nobody"),
        h("dt", null, "Notifications"),
        h(
          "dd",
          null,
          d?.notifications.length
            ? h("ul", null, d.notifications.map((n) => h("li", null, `${n.generalChat ? "General chat" : `${this.employeeName(n.employeeId)}: ${L.reasons[n.reason]}`}${n.explanation ? ` — ${n.explanation}` : ""}`)))
            : "none",
        ),
        d?.postedToGeneralChat ? [h("dt", null, "General chat"), h("dd", null, "posted")] : null,
      ),
    );
  }

  private renderRefreshResult(): HTMLElement | null {
    const r = this.refreshResult;
    if (!r) return null;
    return h(
      "section",
      { class: "panel", "data-testid": "refresh-result" },
      h("h2", null, "What the CRM has"),
      h(
        "p",
        null,
        `${L.crmKinds[r.crmKind]}: ${r.activeEmployees} active and ${r.deactivatedEmployees} deactivated employees, ` +
          `${r.pipelines} pipeline(s) with ${r.stages} stage(s), ${r.leadStatuses} lead status(es), ` +
          `${r.channels} channel(s), ${r.channelsInIntegration} in the integration.`,
      ),
      h("h4", null, "What changed"),
      r.changes.length
        ? h("ul", { class: "changes", "data-testid": "refresh-changes" }, r.changes.map((c) => h("li", null, c)))
        : h("p", { class: "muted", "data-testid": "refresh-changes" }, "Nothing changed."),
      h("h4", null, "To look at"),
      r.findings.length
        ? h("ul", { class: "findings", "data-testid": "refresh-findings" }, r.findings.map((f) => h("li", null, f)))
        : h("p", { class: "muted", "data-testid": "refresh-findings" }, "Nothing to look at."),
    );
  }

  private renderAccount(s: IntegrationSettings): HTMLElement {
    const a = s.account!;
    return h(
      "section",
      { class: "panel", "data-testid": "account-settings" },
      h("h2", null, "For all channels"),
      h("div", { "data-errors-for": "settings.account" }),
      h(
        "div",
        { class: "grid2" },
        h(
          "label",
          null,
          "Save messages to the CRM",
          select(
            {
              "data-testid": "account-save-messages",
              "data-field": "settings.account.save_messages",
              onchange: (e: Event) => {
                a.saveMessages = Number((e.target as HTMLSelectElement).value) as SaveMessagesMode;
                this.changed();
              },
            },
            L.saveModes.map((m) => ({ value: String(m.value), label: m.label })),
            String(a.saveMessages || SaveMessagesMode.HOURLY),
          ),
        ),
        h(
          "label",
          null,
          "Time zone for daily saving",
          h("input", {
            type: "text",
            "data-testid": "account-time-zone",
            "data-field": "settings.account.time_zone",
            placeholder: "UTC (for example Europe/Moscow)",
            value: a.timeZone,
            oninput: (e: Event) => {
              a.timeZone = (e.target as HTMLInputElement).value.trim();
              this.dirtyChanged();
            },
          }),
        ),
        h(
          "label",
          null,
          "Chat visibility for sales reps",
          select(
            {
              "data-testid": "account-visibility",
              "data-field": "settings.account.global_chat_visibility",
              onchange: (e: Event) => {
                a.globalChatVisibility = Number((e.target as HTMLSelectElement).value) as GlobalChatVisibility;
                this.changed();
              },
            },
            L.visibilities.map((m) => ({ value: String(m.value), label: m.label })),
            String(a.globalChatVisibility || GlobalChatVisibility.OWN),
          ),
        ),
        this.renderHomeRegion(a),
        h(
          "div",
          { class: "checks" },
          h(
            "label",
            { class: "check" },
            h("input", {
              type: "checkbox",
              "data-testid": "account-convert-8",
              "data-field": "settings.account.convert_8_to_plus7",
              checked: a.convert8ToPlus7,
              onchange: (e: Event) => {
                a.convert8ToPlus7 = (e.target as HTMLInputElement).checked;
                this.changed();
              },
            }),
            "Read numbers starting with 8 as +7 (turn off for clients from Asia)",
          ),
          h(
            "label",
            { class: "check" },
            h("input", {
              type: "checkbox",
              "data-testid": "account-notify-managers",
              "data-field": "settings.account.notify_managers_all_messages",
              checked: a.notifyManagersAllMessages,
              onchange: (e: Event) => {
                a.notifyManagersAllMessages = (e.target as HTMLInputElement).checked;
                this.changed();
              },
            }),
            "Notify managers of all messages (and post every message to the general chat)",
          ),
        ),
      ),
      h(
        "fieldset",
        { class: "chat-admins", "data-errors-for": "settings.account.chat_admin_employee_ids" },
        h("legend", null, "Chat admins — see every chat of the channels they are members of"),
        this.employees.map((e) =>
          h(
            "label",
            { class: "check" },
            h("input", {
              type: "checkbox",
              "data-testid": `chat-admin-${e.id}`,
              "data-field": a.chatAdminEmployeeIds.includes(e.id) ? `settings.account.chat_admin_employee_ids[${a.chatAdminEmployeeIds.indexOf(e.id)}]` : undefined,
              checked: a.chatAdminEmployeeIds.includes(e.id),
              onchange: (ev: Event) => {
                M.setChatAdmin(s, e.id, (ev.target as HTMLInputElement).checked);
                this.changed(true);
              },
            }),
            this.employeeName(e.id),
          ),
        ),
      ),
    );
  }

  /**
   * The home region: unset is automatic (RU while 8 means +7, else none),
   * "" is none, a code is that region's numbering plan.
   */
  private renderHomeRegion(a: AccountSettings): HTMLElement {
    const auto = a.convert8ToPlus7 ? "Russia (RU)" : "none";
    const codes = a.homeRegion && !L.homeRegions.includes(a.homeRegion) ? [a.homeRegion, ...L.homeRegions] : L.homeRegions;
    const regions = codes.map((c) => ({ value: c, label: L.regionLabel(c) })).sort((x, y) => x.label.localeCompare(y.label));
    return h(
      "label",
      {
        title:
          "How a phone number written without + or 00 is read (senders, CRM contacts, API calls). " +
          "Automatic follows “Read numbers starting with 8 as +7”: Russia while it is on, none (international) while off.",
      },
      "Home region for numbers without a country code",
      select(
        {
          "data-testid": "account-home-region",
          "data-field": "settings.account.home_region",
          onchange: (e: Event) => {
            const v = (e.target as HTMLSelectElement).value;
            a.homeRegion = v === "auto" ? undefined : v;
            this.changed();
          },
        },
        [
          { value: "auto", label: `Automatic: ${auto}` },
          { value: "", label: "None: read them as international" },
          ...regions,
        ],
        a.homeRegion ?? "auto",
      ),
    );
  }

  private renderChannel(s: IntegrationSettings, cs: ChannelSettings, i: number): HTMLElement {
    const path = `settings.channels[${i}]`;
    const cid = cs.channelId;
    const ch = cs.channel;
    const t = (name: string) => `channel-${cid}-${name}`;
    const bitrix = s.crmConnection?.crmKind === CrmKind.BITRIX24;
    const nonMembers = this.employees.filter((e) => !M.member(cs, e.id) && e.active);
    const addSel = select(
      { "data-testid": t("add-employee"), "aria-label": "Employee to add" },
      [{ value: "", label: "Add an employee…" }, ...nonMembers.map((e) => ({ value: e.id, label: e.name }))],
      "",
    );
    return h(
      "section",
      { class: "panel channel", "data-testid": `channel-${cid}` },
      h(
        "h3",
        null,
        ch?.name ?? `Channel ${cid}`,
        " ",
        h("span", { class: "muted" }, L.channelKinds[ch?.kind ?? 0]),
        " ",
        ch && h("span", { class: ch.inIntegration ? "badge ok" : "badge off" }, ch.inIntegration ? "in the integration" : "not in the integration"),
      ),
      ch &&
        h(
          "label",
          { class: "check", title: "Only channels in the integration are routed. Applies at once." },
          h("input", {
            type: "checkbox",
            "data-testid": t("in-integration"),
            checked: ch.inIntegration,
            disabled: this.busy,
            onchange: (e: Event) => void this.setInIntegration(cid, (e.target as HTMLInputElement).checked),
          }),
          "Route this channel's messages (in the integration; applies at once)",
        ),
      ch &&
        bitrix &&
        h(
          "label",
          { class: "check", title: "Chats of this channel are handled by the portal's open lines. Applies at once." },
          h("input", {
            type: "checkbox",
            "data-testid": t("open-channels"),
            checked: ch.openChannels,
            disabled: this.busy,
            onchange: (e: Event) => void this.setOpenChannels(cid, (e.target as HTMLInputElement).checked),
          }),
          "Handled by Bitrix24's Open Channels (applies at once)",
        ),
      ch && bitrix && ch.openChannels && this.renderOpenChannels(s, cs),
      h("div", { "data-errors-for": path }),
      h(
        "div",
        { class: "grid3" },
        h(
          "label",
          null,
          "Distribution of new clients",
          select(
            {
              "data-testid": t("distribution"),
              "data-field": `${path}.distribution`,
              onchange: (e: Event) => {
                cs.distribution = Number((e.target as HTMLSelectElement).value) as DistributionMode;
                this.changed();
              },
            },
            L.distributions.map((d) => ({ value: String(d.value), label: d.label })),
            String(cs.distribution || DistributionMode.ROUND_ROBIN),
          ),
          h("small", { class: "muted" }, L.distributions.find((d) => d.value === (cs.distribution || DistributionMode.ROUND_ROBIN))?.hint ?? ""),
        ),
        h(
          "label",
          null,
          "When a client whose deals are closed writes again",
          select(
            {
              "data-testid": t("repeat"),
              "data-field": `${path}.repeat_client_policy`,
              onchange: (e: Event) => {
                cs.repeatClientPolicy = Number((e.target as HTMLSelectElement).value) as RepeatClientPolicy;
                this.changed();
              },
            },
            L.repeatPolicies.map((d) => ({ value: String(d.value), label: d.label })),
            String(cs.repeatClientPolicy || RepeatClientPolicy.CREATE_NEW_DEAL),
          ),
        ),
        this.renderEntity(cs, path, t),
      ),
      this.renderAvailability(cs, path, t),
      h("h4", null, "Roles (in distribution order)"),
      h(
        "table",
        { class: "members", "data-testid": t("members") },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            h("th", null, "Order"),
            h("th", null, "Employee"),
            h("th", null, "Role"),
            h("th", null, "Access"),
            h("th", null, "Receives new clients"),
            h("th", null, "Weight"),
            h("th", { title: "The most open clients this member takes on this channel; 0 means no limit" }, "Open clients at most"),
            h("th", null, ""),
          ),
        ),
        h(
          "tbody",
          null,
          cs.members.length
            ? cs.members.map((m, j) => this.renderMember(s, cs, i, j))
            : h("tr", null, h("td", { colspan: 8, class: "muted" }, "Nobody has access to this channel.")),
        ),
      ),
      h(
        "div",
        { class: "row" },
        addSel,
        h(
          "button",
          {
            type: "button",
            class: "btn plain",
            "data-testid": t("add"),
            onclick: () => {
              if (!addSel.value) return;
              M.addMember(cs, addSel.value);
              this.changed(true);
            },
          },
          "Add to channel",
        ),
      ),
    );
  }

  private renderEntity(cs: ChannelSettings, path: string, t: (n: string) => string): HTMLElement {
    const ent = cs.newClientEntity?.entity;
    const kind = ent?.case ?? "";
    const epath = `${path}.new_client_entity`;
    const kindSel = select(
      {
        "data-testid": t("entity-kind"),
        "data-field": epath,
        onchange: (e: Event) => {
          const v = (e.target as HTMLSelectElement).value;
          if (v === "deal") {
            const p = this.pipelines[0];
            cs.newClientEntity = create(NewClientEntitySchema, {
              entity: { case: "deal", value: create(DealTargetSchema, { pipelineId: p?.id ?? "", stageId: p?.stages[0]?.id ?? "" }) },
            });
          } else if (v === "lead") {
            cs.newClientEntity = create(NewClientEntitySchema, {
              entity: { case: "lead", value: create(LeadTargetSchema, { leadStatusId: this.leadStatuses[0]?.id ?? "" }) },
            });
          } else {
            cs.newClientEntity = undefined;
          }
          this.changed(true);
        },
      },
      [
        { value: "", label: "Default (first stage of the first pipeline)" },
        { value: "deal", label: "A deal", disabled: !this.pipelines.length },
        { value: "lead", label: "A lead", disabled: !this.leadStatuses.length },
      ],
      kind,
    );
    const parts: HTMLElement[] = [];
    if (ent?.case === "deal") {
      const d = ent.value;
      const pipeline = this.pipelines.find((p) => p.id === d.pipelineId);
      parts.push(
        select(
          {
            "data-testid": t("pipeline"),
            "data-field": `${epath}.deal.pipeline_id`,
            "aria-label": "Pipeline",
            onchange: (e: Event) => {
              d.pipelineId = (e.target as HTMLSelectElement).value;
              d.stageId = this.pipelines.find((p) => p.id === d.pipelineId)?.stages[0]?.id ?? "";
              this.changed();
            },
          },
          [
            ...(pipeline ? [] : [{ value: d.pipelineId, label: `unknown pipeline ${d.pipelineId}` }]),
            ...this.pipelines.map((p) => ({ value: p.id, label: p.name })),
          ],
          d.pipelineId,
        ),
        select(
          {
            "data-testid": t("stage"),
            "data-field": `${epath}.deal.stage_id`,
            "aria-label": "Stage",
            onchange: (e: Event) => {
              d.stageId = (e.target as HTMLSelectElement).value;
              this.changed();
            },
          },
          [
            { value: "", label: "First stage" },
            ...(pipeline?.stages ?? []).map((st) => ({ value: st.id, label: st.name })),
            ...(d.stageId && !pipeline?.stages.some((st) => st.id === d.stageId) ? [{ value: d.stageId, label: `unknown stage ${d.stageId}` }] : []),
          ],
          d.stageId,
        ),
      );
    } else if (ent?.case === "lead") {
      const l = ent.value;
      parts.push(
        select(
          {
            "data-testid": t("lead-status"),
            "data-field": `${epath}.lead.lead_status_id`,
            "aria-label": "Lead status",
            onchange: (e: Event) => {
              l.leadStatusId = (e.target as HTMLSelectElement).value;
              this.changed();
            },
          },
          [
            ...(this.leadStatuses.some((x) => x.id === l.leadStatusId) ? [] : [{ value: l.leadStatusId, label: `unknown status ${l.leadStatusId}` }]),
            ...this.leadStatuses.map((x) => ({ value: x.id, label: x.name })),
          ],
          l.leadStatusId,
        ),
      );
    }
    return h("div", { class: "entity" }, h("label", null, "For a new client, create", kindSel), h("div", { class: "row" }, parts));
  }

  private renderMember(s: IntegrationSettings, cs: ChannelSettings, i: number, j: number): HTMLElement {
    const m = cs.members[j];
    const path = `settings.channels[${i}].members[${j}]`;
    const t = (name: string) => `member-${cs.channelId}-${m.employeeId}-${name}`;
    const role = M.roleOf(m);
    const qc = role === EmployeeRole.QUALITY_CONTROL;
    const why = M.ineligibility(m, this.employee(m.employeeId));
    return h(
      "tr",
      { "data-testid": `member-${cs.channelId}-${m.employeeId}` },
      h(
        "td",
        { class: "order" },
        h("button", { type: "button", class: "icon", title: "Move up", "aria-label": "Move up", "data-testid": t("up"), disabled: j === 0, onclick: () => (M.moveMember(cs, j, -1), this.changed(true)) }, "↑"),
        h("button", { type: "button", class: "icon", title: "Move down", "aria-label": "Move down", "data-testid": t("down"), disabled: j === cs.members.length - 1, onclick: () => (M.moveMember(cs, j, 1), this.changed(true)) }, "↓"),
      ),
      h("td", null, h("span", { "data-field": `${path}.employee_id` }, this.employeeName(m.employeeId)), h("div", { "data-errors-for": path })),
      h(
        "td",
        null,
        select(
          {
            "data-testid": t("role"),
            "data-field": `${path}.role`,
            "aria-label": "Role",
            onchange: (e: Event) => {
              M.setRole(s, cs, m, Number((e.target as HTMLSelectElement).value) as EmployeeRole);
              this.changed();
            },
          },
          L.roles.map((r) => ({ value: String(r.value), label: r.label })),
          String(role),
        ),
      ),
      h(
        "td",
        null,
        select(
          {
            "data-testid": t("access"),
            "data-field": `${path}.access`,
            "aria-label": "Access",
            onchange: (e: Event) => {
              M.setAccess(s, cs, m, Number((e.target as HTMLSelectElement).value) as ChannelAccess);
              this.changed();
            },
          },
          [
            { value: String(ChannelAccess.READ_ONLY), label: "Read" },
            { value: String(ChannelAccess.READ_WRITE), label: "Read + send", disabled: qc && m.access !== ChannelAccess.READ_WRITE },
          ],
          String(m.access === ChannelAccess.READ_WRITE ? ChannelAccess.READ_WRITE : ChannelAccess.READ_ONLY),
        ),
      ),
      h(
        "td",
        null,
        h(
          "label",
          { class: "switch", title: why || "gets new clients" },
          h("input", {
            type: "checkbox",
            role: "switch",
            "data-testid": t("receives"),
            "data-field": `${path}.receives_new_clients`,
            checked: m.receivesNewClients,
            onchange: (e: Event) => {
              m.receivesNewClients = (e.target as HTMLInputElement).checked;
              this.changed();
            },
          }),
          h("span", { class: "slider", "aria-hidden": "true" }),
        ),
        m.receivesNewClients && why ? h("small", { class: "muted warn" }, ` not eligible: ${why}`) : null,
      ),
      h(
        "td",
        null,
        h("input", {
          type: "number",
          min: 1,
          max: 100,
          step: 1,
          class: "weight",
          "aria-label": "Weight",
          "data-testid": t("weight"),
          "data-field": `${path}.weight`,
          value: M.weightText(m.weight),
          oninput: (e: Event) => {
            const text = (e.target as HTMLInputElement).value;
            m.weight = M.parseWeight(text);
            this.dirtyChanged();
          },
        }),
      ),
      h(
        "td",
        null,
        h("input", {
          type: "number",
          min: 0,
          max: 10000,
          step: 1,
          class: "weight",
          "aria-label": "Open clients at most (0 means no limit)",
          title: "0 means no limit",
          "data-testid": t("capacity"),
          "data-field": `${path}.capacity`,
          value: M.countText(m.capacity),
          oninput: (e: Event) => {
            m.capacity = M.parseCount((e.target as HTMLInputElement).value);
            this.dirtyChanged();
          },
        }),
      ),
      h(
        "td",
        null,
        h("button", { type: "button", class: "icon", title: "Remove from channel", "aria-label": "Remove from channel", "data-testid": t("remove"), onclick: () => (M.removeMember(s, cs, j), this.changed(true)) }, "✕"),
      ),
    );
  }

  /** How the channel treats members who cannot take a client now (outside hours, not online, at their limit). */
  private renderAvailability(cs: ChannelSettings, path: string, t: (n: string) => string): HTMLElement {
    const av = cs.availability;
    const apath = `${path}.availability`;
    const count = (name: string, field: "replyDeadlineMinutes" | "maxPasses" | "streamGraceMinutes", label: string, hint: string, max: number) =>
      h(
        "label",
        null,
        label,
        h("input", {
          type: "number",
          min: 0,
          max,
          step: 1,
          "data-testid": t(name),
          "data-field": `${apath}.${name.replace(/-/g, "_")}`,
          value: M.countText(av?.[field] ?? 0),
          oninput: (e: Event) => {
            M.availabilityOf(cs)[field] = M.parseCount((e.target as HTMLInputElement).value);
            M.tidyAvailability(cs);
            this.dirtyChanged();
          },
        }),
        h("small", { class: "muted" }, hint),
      );
    return h(
      "div",
      { class: "availability", "data-errors-for": apath },
      h("h4", null, "When someone is away"),
      h(
        "label",
        { class: "check", title: "Away means outside working hours, not online, or at the limit of open clients" },
        h("input", {
          type: "checkbox",
          "data-testid": t("absent-keep-turn"),
          "data-field": `${apath}.absent_keep_turn`,
          checked: av?.absentKeepTurn ?? false,
          onchange: (e: Event) => {
            M.availabilityOf(cs).absentKeepTurn = (e.target as HTMLInputElement).checked;
            M.tidyAvailability(cs);
            this.changed();
          },
        }),
        "Members who are away keep their turn (the next one covers for them, and the order goes on from them when they are back)",
      ),
      h(
        "div",
        { class: "grid3" },
        count("reply-deadline-minutes", "replyDeadlineMinutes", "Minutes to answer a new client", "then the client goes to the next member; 0 means no limit", 10080),
        count("max-passes", "maxPasses", "Times a client may be passed on", "after that the channel's managers are told; 0 tells them at once", 20),
        count("stream-grace-minutes", "streamGraceMinutes", "Minutes with the app closed before someone counts as away", "0 means never (only their presence counts)", 1440),
      ),
    );
  }

  /** Working hours (saved with the settings) and presence (applied at once) of every employee. */
  private renderHours(s: IntegrationSettings): HTMLElement {
    const tz = s.account?.timeZone || "UTC";
    const shown = this.employees.filter((e) => e.active || M.hoursIndex(s, e.id) >= 0);
    return h(
      "section",
      { class: "panel", "data-testid": "working-hours" },
      h("h2", null, "Working hours and presence"),
      h(
        "p",
        { class: "muted" },
        `New clients go only to employees who are online, within their working hours and below their limit of open clients (set per channel below). Hours are in the account's time zone (${tz}); someone with no hours works any time. A shift past midnight is two periods (22:00–24:00 and 00:00–06:00 the next day). Presence applies at once; hours are saved with Save.`,
      ),
      h("div", { "data-errors-for": "settings.account.working_hours" }),
      h(
        "table",
        { class: "hours" },
        h("thead", null, h("tr", null, h("th", null, "Employee"), h("th", null, "Presence"), h("th", null, "Weekly hours"), h("th", null, "Days off"))),
        h("tbody", null, shown.map((e) => this.renderEmployeeHours(s, e))),
      ),
    );
  }

  private renderEmployeeHours(s: IntegrationSettings, e: Employee): HTMLElement {
    const k = M.hoursIndex(s, e.id);
    const w = k >= 0 ? s.account!.workingHours[k] : undefined;
    const path = `settings.account.working_hours[${k}]`;
    const t = (name: string) => `hours-${e.id}-${name}`;
    const clock = (j: number, which: "start" | "end", v: string) =>
      h("input", {
        type: "text",
        class: "clock",
        inputmode: "numeric",
        placeholder: which === "start" ? "09:00" : "18:00",
        "aria-label": which === "start" ? "From" : "To",
        "data-testid": t(`${which}-${j}`),
        "data-field": `${path}.weekly[${j}].${which}`,
        value: v,
        oninput: (ev: Event) => {
          M.hoursOf(s, e.id).weekly[j][which] = (ev.target as HTMLInputElement).value.trim();
          this.dirtyChanged();
        },
      });
    return h(
      "tr",
      { "data-testid": `hours-${e.id}` },
      h("th", { scope: "row" }, this.employeeName(e.id), k >= 0 ? h("div", { "data-errors-for": path }) : null),
      h(
        "td",
        null,
        select(
          {
            "data-testid": `presence-${e.id}`,
            "aria-label": `Presence of ${e.name}`,
            disabled: this.busy,
            onchange: (ev: Event) => void this.setPresence(e.id, Number((ev.target as HTMLSelectElement).value) as Presence),
          },
          L.presences.map((p) => ({ value: String(p.value), label: p.label })),
          String(e.presence || Presence.ONLINE),
        ),
      ),
      h(
        "td",
        null,
        w?.weekly.length
          ? w.weekly.map((p, j) =>
              h(
                "div",
                { class: "row period", "data-testid": t(`period-${j}`) },
                select(
                  {
                    "data-testid": t(`day-${j}`),
                    "data-field": `${path}.weekly[${j}].day`,
                    "aria-label": "Day",
                    onchange: (ev: Event) => {
                      M.hoursOf(s, e.id).weekly[j].day = Number((ev.target as HTMLSelectElement).value);
                      this.changed();
                    },
                  },
                  L.weekdays.map((d) => ({ value: String(d.value), label: d.label })),
                  String(p.day),
                ),
                clock(j, "start", p.start),
                "–",
                clock(j, "end", p.end),
                h("button", { type: "button", class: "icon", title: "Remove this period", "aria-label": "Remove this period", "data-testid": t(`remove-period-${j}`), onclick: () => (M.removePeriod(s, e.id, j), this.changed(true)) }, "✕"),
              ),
            )
          : h("span", { class: "muted" }, "Any time"),
        h("div", { "data-errors-for": `${path}.weekly` }),
        h("button", { type: "button", class: "link", "data-testid": t("add-period"), onclick: () => (M.addPeriod(s, e.id), this.changed(true)) }, "add a period"),
      ),
      h(
        "td",
        null,
        (w?.daysOff ?? []).map((d, j) =>
          h(
            "div",
            { class: "row period" },
            h("input", {
              type: "date",
              "aria-label": "Day off",
              "data-testid": t(`day-off-${j}`),
              "data-field": `${path}.days_off[${j}]`,
              value: d,
              oninput: (ev: Event) => {
                M.hoursOf(s, e.id).daysOff[j] = (ev.target as HTMLInputElement).value;
                this.dirtyChanged();
              },
            }),
            h("button", { type: "button", class: "icon", title: "Remove this day off", "aria-label": "Remove this day off", "data-testid": t(`remove-day-off-${j}`), onclick: () => (M.removeDayOff(s, e.id, j), this.changed(true)) }, "✕"),
          ),
        ),
        h("div", { "data-errors-for": `${path}.days_off` }),
        h("button", { type: "button", class: "link", "data-testid": t("add-day-off"), onclick: () => (M.addDayOff(s, e.id, new Date().toISOString().slice(0, 10)), this.changed(true)) }, "add a day off"),
      ),
    );
  }

  /** Sets an employee's presence at once (not part of the saved settings). */
  private async setPresence(employeeId: string, presence: Presence): Promise<void> {
    this.busy = true;
    try {
      const res = await api.directory.setPresence({ employeeId, presence });
      const i = this.employees.findIndex((e) => e.id === employeeId);
      if (res.employee && i >= 0) this.employees[i] = res.employee;
      this.banner = { kind: "ok", text: `${res.employee?.name} is now ${L.presences.find((p) => p.value === presence)?.label.toLowerCase()}.` };
    } catch (err) {
      this.banner = { kind: "error", text: `Presence not changed: ${describeError(err)}` };
    } finally {
      this.busy = false;
    }
    this.render();
  }

  private renderGrid(s: IntegrationSettings): HTMLElement {
    const levelSel = select(
      {
        "data-testid": "grid-add-level",
        "aria-label": "Access that “add all” grants",
        onchange: (e: Event) => (this.addLevel = Number((e.target as HTMLSelectElement).value) as ChannelAccessLevel),
      },
      L.accessLevels.filter((l) => l.value !== ChannelAccessLevel.NO_ACCESS).map((l) => ({ value: String(l.value), label: l.label })),
      String(this.addLevel),
    );
    const r = this.accessResult;
    const defaults = s.account?.defaultOutgoingChannels ?? [];
    return h(
      "section",
      { class: "panel", "data-testid": "access-grid" },
      h("h2", null, "Channel access and default outgoing channel"),
      h(
        "p",
        { class: "muted" },
        "Each cell is an employee's access to a channel. The dot marks the channel an employee writes first from (one per employee; it must be a read + send channel). “Add all” and “remove all” apply at once.",
      ),
      h(
        "div",
        { class: "row" },
        h("span", null, "Add all as"),
        levelSel,
        h("button", { type: "button", class: "btn plain", "data-testid": "grid-add-all", disabled: this.busy, onclick: () => void this.bulkAccess(this.addLevel) }, "Add all employees to all channels"),
        h("button", { type: "button", class: "btn danger", "data-testid": "grid-remove-all", disabled: this.busy, onclick: () => void this.bulkAccess(ChannelAccessLevel.NO_ACCESS) }, "Remove everyone from all channels"),
      ),
      r && r.skipped.length
        ? h(
            "ul",
            { class: "muted", "data-testid": "grid-skipped" },
            r.skipped.map((k) => h("li", null, `${this.employeeName(k.employeeId)} on ${s.channels.find((c) => c.channelId === k.channelId)?.channel?.name ?? k.channelId}: ${k.reason}`)),
          )
        : null,
      h(
        "table",
        { class: "grid" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            h("th", null, "Employee"),
            s.channels.map((cs) =>
              h(
                "th",
                null,
                cs.channel?.name ?? cs.channelId,
                h(
                  "div",
                  { class: "col-actions" },
                  h("button", { type: "button", class: "link", "data-testid": `grid-add-all-${cs.channelId}`, disabled: this.busy, onclick: () => void this.bulkAccess(this.addLevel, cs.channelId) }, "add all"),
                  h("button", { type: "button", class: "link", "data-testid": `grid-remove-all-${cs.channelId}`, disabled: this.busy, onclick: () => void this.bulkAccess(ChannelAccessLevel.NO_ACCESS, cs.channelId) }, "remove all"),
                ),
              ),
            ),
            h("th", null, "No default channel"),
          ),
        ),
        h(
          "tbody",
          null,
          this.employees.map((e) => {
            const def = M.defaultChannelOf(s, e.id);
            const k = defaults.findIndex((d) => d.employeeId === e.id);
            const dpath = `settings.account.default_outgoing_channels[${k}]`;
            return h(
              "tr",
              { "data-testid": `grid-row-${e.id}` },
              h("th", { scope: "row" }, this.employeeName(e.id), k >= 0 ? h("div", { "data-errors-for": dpath }) : null),
              s.channels.map((cs, i) => {
                const m = M.member(cs, e.id);
                const j = m ? cs.members.indexOf(m) : -1;
                const qc = m && M.roleOf(m) === EmployeeRole.QUALITY_CONTROL;
                return h(
                  "td",
                  null,
                  select(
                    {
                      "data-testid": `grid-${e.id}-${cs.channelId}`,
                      "data-field": j >= 0 ? `settings.channels[${i}].members[${j}].access` : undefined,
                      "aria-label": `${e.name} on ${cs.channel?.name ?? cs.channelId}`,
                      onchange: (ev: Event) => {
                        M.setCellLevel(s, cs, e.id, Number((ev.target as HTMLSelectElement).value) as ChannelAccessLevel);
                        this.changed(true);
                      },
                    },
                    L.accessLevels.map((l) => ({
                      value: String(l.value),
                      label: l.label,
                      disabled: l.value === ChannelAccessLevel.READ_WRITE && !!qc,
                    })),
                    String(M.cellLevel(cs, e.id)),
                  ),
                  h("input", {
                    type: "radio",
                    name: `default-${e.id}`,
                    title: "Default outgoing channel",
                    "aria-label": `Default outgoing channel of ${e.name}: ${cs.channel?.name ?? cs.channelId}`,
                    "data-testid": `default-${e.id}-${cs.channelId}`,
                    "data-field": def === cs.channelId && k >= 0 ? `${dpath}.channel_id` : undefined,
                    checked: def === cs.channelId,
                    disabled: !M.writes(m) && def !== cs.channelId,
                    onchange: () => {
                      M.setDefaultChannel(s, e.id, cs.channelId);
                      this.changed(true);
                    },
                  }),
                );
              }),
              h(
                "td",
                null,
                h("input", {
                  type: "radio",
                  name: `default-${e.id}`,
                  "aria-label": `${e.name} has no default outgoing channel`,
                  "data-testid": `default-${e.id}-none`,
                  checked: !def,
                  onchange: () => {
                    M.setDefaultChannel(s, e.id, "");
                    this.changed(true);
                  },
                }),
              ),
            );
          }),
        ),
      ),
    );
  }
}
