// The CRM part of the settings view: which CRM the account uses, the form
// that connects an external CRM (amoCRM, Kommo, Bitrix24, Zoho CRM,
// HubSpot, Pipedrive), and the state of the writes to it.
//
// Both panels keep their own element across the view's renders, so a token
// being typed or a poll of the sync state never disturbs the rest.
import {
  Code,
  codeOf,
  CrmKind,
  fieldViolations,
  timestampDate,
  type ConnectCrmResponse,
  type CrmBudget,
  type CrmSyncItem,
  type FieldViolation,
  type GetCrmSyncStateResponse,
  type IntegrationSettings,
  type Timestamp,
} from "@switchboard/sdk";
import { api, describeError } from "../api.js";
import { fill, formatTime, h, select } from "../dom.js";
import * as L from "../labels.js";
import { showViolations } from "../violations.js";

type Banner = { kind: "ok" | "error" | "info"; text: string } | undefined;

/** What the CRM panel asks of the settings view. */
export interface CrmHost {
  /** Settles unsaved changes first (save, discard or stay); false to stay. */
  settle(): Promise<boolean>;
  /** Shows a connect's answer and reads everything again. */
  connected(res: ConnectCrmResponse): Promise<void>;
  /** Asks, then deletes the integration (DeleteIntegration). */
  disconnect(): Promise<void>;
}

/** What the connect form asks for one CRM, in that CRM's words. */
interface Guide {
  address: string;
  placeholder: string;
  /** Filled in when the CRM has one address for everyone. */
  fixed?: string;
  token: string;
  tokenHelp: string;
  webhookHelp: string;
  /** The label of the key the CRM signs its webhooks with, when it has one. */
  secret?: string;
}

const guides: Partial<Record<CrmKind, Guide>> = {
  [CrmKind.AMOCRM]: {
    address: "Address of your account",
    placeholder: "https://{subdomain}.amocrm.ru",
    token: "Long-lived token",
    tokenHelp: "Create the token in amoCRM as an administrator: Settings → Integrations → your private integration → Keys and scopes.",
    webhookHelp: "Paste this address in amoCRM's Settings → Web hooks, for lead status changed and responsible changed.",
  },
  [CrmKind.KOMMO]: {
    address: "Address of your account",
    placeholder: "https://{subdomain}.kommo.com",
    token: "Long-lived token",
    tokenHelp: "Create the token in Kommo as an administrator: Settings → Integrations → your private integration → Keys and scopes.",
    webhookHelp: "Paste this address in Kommo's Settings → Web hooks, for lead status changed and responsible changed.",
  },
  [CrmKind.BITRIX24]: {
    address: "Address of your portal",
    placeholder: "https://{portal}.bitrix24.ru",
    token: "Incoming webhook URL",
    tokenHelp:
      "In Bitrix24: Developer resources → Other → Incoming webhook, with the crm and user permissions; paste the whole URL it shows (https://{portal}.bitrix24.ru/rest/{user}/{secret}/).",
    webhookHelp: "In Bitrix24: Developer resources → Other → Outgoing webhook, for the event ONCRMDEALUPDATE (deal updated), with this address as the handler.",
  },
  [CrmKind.ZOHO]: {
    address: "Data centre",
    placeholder: "eu (or com, in, com.au, jp, ca, com.cn, sa)",
    token: "client_id:client_secret:refresh_token",
    tokenHelp:
      "In the Zoho API console, create a self client and generate a refresh token with the scopes ZohoCRM.modules.ALL, ZohoCRM.settings.ALL, ZohoCRM.users.READ, ZohoCRM.notifications.ALL and ZohoCRM.org.READ; paste client id, client secret and refresh token joined by colons.",
    webhookHelp: "Nothing to set up in Zoho CRM: Switchboard has opened its notification channel to this address and renews it before it lapses.",
  },
  [CrmKind.HUBSPOT]: {
    address: "API address",
    placeholder: "https://api.hubapi.com",
    fixed: "https://api.hubapi.com",
    token: "Private app access token",
    tokenHelp: "In HubSpot: Settings → Integrations → Private apps → your app, with the crm.objects.contacts, crm.objects.deals and crm.objects.owners scopes; copy its access token.",
    webhookHelp: "In HubSpot: your private app → Webhooks, target URL this address, for deal property changes (dealstage, hubspot_owner_id).",
    secret: "Client secret (optional: checks the webhooks' signatures)",
  },
  [CrmKind.PIPEDRIVE]: {
    address: "Address of your company",
    placeholder: "https://{company}.pipedrive.com",
    token: "API token",
    tokenHelp: "In Pipedrive: Personal preferences → API; copy your personal API token.",
    webhookHelp: "In Pipedrive: Tools and apps → Webhooks → Create, event action change, object deal, with this address as the endpoint.",
  },
};

/** The CRMs the form offers, in this order. */
const connectable = [CrmKind.AMOCRM, CrmKind.KOMMO, CrmKind.BITRIX24, CrmKind.ZOHO, CrmKind.HUBSPOT, CrmKind.PIPEDRIVE];

function guideOf(k: CrmKind): Guide {
  return guides[k] ?? (guides[CrmKind.AMOCRM] as Guide);
}


function time(t: Timestamp | undefined): string {
  return formatTime(t ? timestampDate(t) : undefined);
}

export class CrmPanel {
  readonly el: HTMLElement = h("section", { class: "panel crm", "data-testid": "crm-panel" });
  private readonly kind = select(
    {
      id: "crm-kind",
      "data-testid": "crm-kind-select",
      "data-field": "crm_kind",
      onchange: () => this.kindChanged(),
    },
    connectable.map((k) => ({ value: String(k), label: L.crmKinds[k] })),
    String(CrmKind.AMOCRM),
  );
  private readonly address = h("input", {
    type: "text",
    id: "crm-base-url",
    "data-testid": "crm-base-url",
    "data-field": "base_url",
    placeholder: guideOf(CrmKind.AMOCRM).placeholder,
    autocomplete: "off",
    spellcheck: "false",
  });
  // Write-only: never filled from the server, emptied after every submit.
  private readonly token = h("input", {
    type: "password",
    id: "crm-token",
    "data-testid": "crm-token",
    "data-field": "token",
    autocomplete: "off",
  });
  // Write-only too: the key the CRM signs its webhooks with.
  private readonly secret = h("input", {
    type: "password",
    id: "crm-webhook-secret",
    "data-testid": "crm-webhook-secret",
    "data-field": "webhook_secret",
    autocomplete: "off",
  });
  private violations: FieldViolation[] = [];
  private banner: Banner;
  private webhookUrl = "";
  private copied = false;
  private busy = false;
  private settings?: IntegrationSettings;

  constructor(private readonly host: CrmHost) {}

  private kindValue(): CrmKind {
    return Number(this.kind.value) as CrmKind;
  }

  /** Another CRM chosen: its words on the form, its fixed address if it has one. */
  private kindChanged(): void {
    const g = guideOf(this.kindValue());
    this.address.placeholder = g.placeholder;
    if (g.fixed) this.address.value = g.fixed;
    else if (Object.values(guides).some((o) => o?.fixed === this.address.value)) this.address.value = "";
    this.render();
  }

  /** Renders the panel for the saved settings and returns its element. */
  show(s: IntegrationSettings): HTMLElement {
    if (this.settings?.crmConnection && !s.crmConnection) {
      // Disconnected: what was said about the connection no longer holds.
      this.webhookUrl = "";
      this.banner = undefined;
    }
    const c = s.crmConnection;
    if (c && !this.address.value) {
      // Connecting again usually keeps the address: start from it.
      this.kind.value = String(c.crmKind);
      this.address.value = c.baseUrl;
      this.address.placeholder = guideOf(c.crmKind).placeholder;
    }
    this.settings = s;
    this.render();
    return this.el;
  }

  private async connect(): Promise<void> {
    if (this.busy) return;
    const req = {
      crmKind: this.kindValue(),
      baseUrl: this.address.value.trim(),
      token: this.token.value,
      webhookSecret: guideOf(this.kindValue()).secret ? this.secret.value : "",
    };
    this.token.value = "";
    this.secret.value = "";
    if (!(await this.host.settle())) return;
    this.busy = true;
    this.violations = [];
    this.webhookUrl = "";
    this.banner = { kind: "info", text: `Connecting to ${L.crmKinds[req.crmKind]}…` };
    this.render();
    try {
      const res = await api.integration.connectCrm(req);
      this.webhookUrl = res.webhookUrl;
      this.copied = false;
      this.banner = { kind: "ok", text: `Connected to ${L.crmKinds[req.crmKind]}: employees and pipelines now come from the CRM.` };
      await this.host.connected(res);
    } catch (err) {
      this.failed(err);
    } finally {
      this.busy = false;
    }
    this.render();
  }

  private failed(err: unknown): void {
    if (codeOf(err) === Code.InvalidArgument && fieldViolations(err).length) {
      this.violations = fieldViolations(err);
      this.banner = { kind: "error", text: "Not connected: see the marked field. Nothing was changed." };
    } else if (codeOf(err) === Code.FailedPrecondition) {
      this.banner = { kind: "error", text: `This server cannot connect a CRM: ${describeError(err)}` };
    } else {
      this.banner = { kind: "error", text: `Not connected: ${describeError(err)}` };
    }
  }

  private async copyWebhook(input: HTMLInputElement): Promise<void> {
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      input.select();
      document.execCommand("copy");
    }
    this.copied = true;
    this.render();
  }

  private render(): void {
    const s = this.settings;
    const c = s?.crmConnection;
    const b = this.banner;
    const general = h("ul", { class: "general-errors", "data-testid": "crm-errors" });
    fill(
      this.el,
      h("h2", null, "CRM"),
      h(
        "div",
        { class: "summary", "data-testid": "crm-current" },
        c
          ? [
              h("strong", { "data-testid": "crm-current-kind" }, L.crmKinds[c.crmKind]),
              h("code", { "data-testid": "crm-current-url" }, c.baseUrl),
              h("span", { class: "muted" }, `connected ${time(c.connectTime)}`),
              h("span", { class: "muted", "data-testid": "crm-refresh-time" }, `last read ${time(c.refreshTime)}`),
              h("button", { type: "button", class: "btn danger", "data-testid": "crm-disconnect", disabled: this.busy, onclick: () => void this.host.disconnect() }, "Disconnect"),
            ]
          : [
              h("strong", { "data-testid": "crm-current-kind" }, L.crmKinds[CrmKind.NATIVE]),
              h("span", { class: "muted" }, "Employees and pipelines are kept here. Connect an external CRM to take them from there."),
            ],
      ),
      h(
        "form",
        {
          class: "crm-connect",
          "data-testid": "crm-connect-form",
          autocomplete: "off",
          onsubmit: (e: Event) => {
            e.preventDefault();
            void this.connect();
          },
        },
        h("h3", null, c ? "Connect again (a new token or address)" : "Connect an external CRM"),
        h(
          "div",
          { class: "grid3" },
          h("label", { for: "crm-kind" }, "CRM", this.kind),
          h("label", { for: "crm-base-url", "data-testid": "crm-base-url-label" }, guideOf(this.kindValue()).address, this.address),
          h("label", { for: "crm-token", "data-testid": "crm-token-label" }, guideOf(this.kindValue()).token, this.token),
          guideOf(this.kindValue()).secret && h("label", { for: "crm-webhook-secret" }, guideOf(this.kindValue()).secret, this.secret),
        ),
        h("p", { class: "muted", "data-testid": "crm-token-help" }, `${guideOf(this.kindValue()).tokenHelp} It is stored sealed and never shown again.`),
        general,
        b && h("div", { class: `banner ${b.kind}`, role: b.kind === "info" ? "status" : "alert", "data-testid": "crm-status" }, b.text),
        h("div", { class: "actions" }, h("button", { type: "submit", class: "btn primary", "data-testid": "crm-connect", disabled: this.busy }, "Connect")),
      ),
      this.webhookUrl ? this.renderWebhook() : null,
    );
    showViolations(this.el, this.violations, general);
  }

  private connectedKind(): CrmKind {
    return this.settings?.crmConnection?.crmKind ?? this.kindValue();
  }

  private renderWebhook(): HTMLElement {
    const url = new URL(this.webhookUrl, window.location.origin).href;
    const input = h("input", { type: "text", readonly: true, class: "webhook-url", "data-testid": "crm-webhook-url", value: url, "aria-label": "Webhook URL" });
    return h(
      "div",
      { class: "banner info webhook", "data-testid": "crm-webhook" },
      h(
        "div",
        null,
        h("p", { "data-testid": "crm-webhook-help" }, `${guideOf(this.connectedKind()).webhookHelp} It is shown only now.`),
        h("div", { class: "row" }, input, h("button", { type: "button", class: "btn plain", "data-testid": "crm-webhook-copy", onclick: () => void this.copyWebhook(input) }, this.copied ? "Copied" : "Copy")),
        this.webhookUrl.startsWith("/") &&
          h("p", { class: "muted" }, "The address starts with this page's; start the server with --public-url if the CRM reaches it at another address."),
      ),
      h("button", { type: "button", class: "link", "data-testid": "crm-webhook-hide", onclick: () => ((this.webhookUrl = ""), this.render()) }, "Hide"),
    );
  }
}

const POLL_MS = 5000;

/** The writes to an external CRM: pending, failed (with a retry each) and the last success; polled while shown. */
export class CrmSyncPanel {
  readonly el: HTMLElement = h("section", { class: "panel", "data-testid": "crm-sync" });
  private state?: GetCrmSyncStateResponse;
  private error = "";
  private timer = 0;
  private loading = false;

  /** Renders the panel, reading the state now and then every few seconds while it is on the page. */
  show(): HTMLElement {
    if (!this.timer) {
      this.timer = window.setInterval(() => this.tick(), POLL_MS);
      void this.refresh();
    }
    this.render();
    return this.el;
  }

  private tick(): void {
    if (!this.el.isConnected) {
      window.clearInterval(this.timer);
      this.timer = 0;
    } else if (document.visibilityState === "visible") {
      void this.refresh();
    }
  }

  async refresh(): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    try {
      this.state = await api.integration.getCrmSyncState({});
      this.error = "";
    } catch (err) {
      this.error = `Could not read the sync state: ${describeError(err)}`;
    } finally {
      this.loading = false;
    }
    this.render();
  }

  private async retry(item: CrmSyncItem): Promise<void> {
    try {
      await api.integration.retryCrmSync({ itemId: item.id });
      this.error = "";
    } catch (err) {
      this.error = `Could not retry: ${describeError(err)}`;
    }
    await this.refresh();
  }

  private render(): void {
    const st = this.state;
    fill(
      this.el,
      h("h2", null, "Sync with the CRM"),
      h(
        "p",
        { class: "muted" },
        "New clients' contacts and deals, responsible changes and chat logs are written to the CRM in the background. A write the CRM refused waits here until you retry it.",
      ),
      h(
        "div",
        { class: "summary" },
        h("span", { "data-testid": "crm-sync-pending-count" }, `${st?.pending.length ?? 0} pending`),
        h("span", { class: st?.failed.length ? "badge off" : "", "data-testid": "crm-sync-failed-count" }, `${st?.failed.length ?? 0} failed`),
        h("span", { "data-testid": "crm-sync-last-success" }, `last written ${st?.lastSuccessTime ? time(st.lastSuccessTime) : "never"}`),
        h("button", { type: "button", class: "btn plain", "data-testid": "crm-sync-refresh", onclick: () => void this.refresh() }, "Refresh"),
      ),
      st?.budget && this.budget(st.budget),
      this.error && h("div", { class: "banner error", "data-testid": "crm-sync-error" }, this.error),
      st?.failed.length ? [h("h4", null, "Failed"), this.table(st.failed, true)] : null,
      st?.pending.length ? [h("h4", null, "Pending"), this.table(st.pending, false)] : null,
    );
  }

  /** The CRM's daily request budget (Zoho CRM's API credits). */
  private budget(b: CrmBudget): HTMLElement {
    const text = `${b.used} of ${b.limit} daily API credits used`;
    return b.paused
      ? h(
          "div",
          { class: "banner info", "data-testid": "crm-sync-budget" },
          `${text}: the writes wait until ${b.resetsTime ? time(b.resetsTime) : "credits come back"}, when the CRM gives credits back. Nothing is dropped.`,
        )
      : h("p", { class: "muted", "data-testid": "crm-sync-budget" }, text);
  }

  private table(items: CrmSyncItem[], failed: boolean): HTMLElement {
    return h(
      "table",
      { class: "sync", "data-testid": failed ? "crm-sync-failed" : "crm-sync-pending" },
      h(
        "thead",
        null,
        h("tr", null, h("th", null, "What"), h("th", null, "Attempts"), h("th", null, failed ? "The CRM's answer" : "Last error"), h("th", null, failed ? "Failed at" : "Due"), failed ? h("th", null, "") : null),
      ),
      h(
        "tbody",
        null,
        items.map((it) =>
          h(
            "tr",
            { "data-testid": `crm-sync-item-${it.id}` },
            h("td", null, it.kind),
            h("td", null, String(it.attempt)),
            h("td", { class: failed ? "warn" : "muted" }, it.error || "—"),
            h("td", null, time(it.time)),
            failed ? h("td", null, h("button", { type: "button", class: "btn plain", "data-testid": `crm-sync-retry-${it.id}`, onclick: () => void this.retry(it) }, "Retry")) : null,
          ),
        ),
      ),
    );
  }
}
