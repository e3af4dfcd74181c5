// The page's shell: the API key, the two views and the guard against
// leaving unsaved settings.
import "./style.css";
import { Code, codeOf, CredentialKind } from "@switchboard/sdk";
import { api, describeError, storedKey, storeKey } from "./api.js";
import { askLeave } from "./dialog.js";
import { h } from "./dom.js";
import { LiveView } from "./live/view.js";
import { SettingsView } from "./settings/view.js";
import { TeamView } from "./team/view.js";

type Route = "settings" | "live" | "team";

const app = document.getElementById("app")!;
let settings = new SettingsView();
let live = new LiveView();
const team = new TeamView();
let route: Route = "settings";
let ignoreHash = false;
const main = h("main", { id: "view" });
const who = h("span", { class: "muted", "data-testid": "account-name" });

function routeFromHash(): Route {
  if (location.hash.startsWith("#/live")) return "live";
  return location.hash.startsWith("#/team") ? "team" : "settings";
}

window.addEventListener("beforeunload", (e) => {
  if (settings.isDirty()) {
    e.preventDefault();
    e.returnValue = "";
  }
});

/** Leaves the settings view only after save / discard / stay. */
async function canLeaveSettings(): Promise<boolean> {
  if (route !== "settings" || !settings.isDirty()) return true;
  const c = await askLeave();
  if (c === "save") return settings.save();
  if (c === "discard") {
    settings.discard();
    return true;
  }
  return false;
}

async function navigate(to: Route): Promise<void> {
  if (to === route && main.childElementCount) return;
  if (!(await canLeaveSettings())) {
    setHash(route);
    return;
  }
  if (route === "live" && to !== "live") live.unmount();
  if (route === "team" && to !== "team") team.unmount();
  route = to;
  setHash(to);
  show();
}

function setHash(r: Route): void {
  const want = `#/${r}`;
  if (location.hash !== want) {
    ignoreHash = true;
    location.hash = want;
  }
}

window.addEventListener("hashchange", () => {
  if (ignoreHash) {
    ignoreHash = false;
    return;
  }
  void navigate(routeFromHash());
});

function show(): void {
  for (const b of document.querySelectorAll<HTMLElement>("nav [data-route]")) {
    b.classList.toggle("active", b.dataset.route === route);
    b.setAttribute("aria-current", b.dataset.route === route ? "page" : "false");
  }
  if (route === "live") live.mount(main);
  else if (route === "team") team.mount(main);
  else settings.mount(main);
}

function renderKeyForm(error = ""): void {
  const input = h("input", {
    type: "password",
    id: "api-key",
    autocomplete: "off",
    "data-testid": "api-key-input",
    placeholder: "sbk_…",
    value: storedKey(),
  });
  app.replaceChildren(
    h(
      "div",
      { class: "key-page" },
      h("h1", null, "Integration with CRM"),
      h(
        "form",
        {
          class: "panel key-form",
          "data-testid": "api-key-form",
          onsubmit: (e: Event) => {
            e.preventDefault();
            storeKey(input.value.trim());
            void start();
          },
        },
        h("label", { for: "api-key" }, "Account API key"),
        h("p", { class: "muted" }, "The admin key of your account (it starts with sbk_). It is kept in this browser only."),
        input,
        error && h("div", { class: "banner error", "data-testid": "api-key-error" }, error),
        h("button", { type: "submit", class: "btn primary", "data-testid": "api-key-submit" }, "Open settings"),
      ),
    ),
  );
  input.focus();
}

async function signOut(): Promise<void> {
  if (!(await canLeaveSettings())) return;
  live.unmount();
  team.unmount();
  storeKey("");
  settings = new SettingsView();
  live = new LiveView();
  renderKeyForm();
}

async function start(): Promise<void> {
  if (!storedKey()) {
    renderKeyForm();
    return;
  }
  try {
    const me = await api.account.getAccount({});
    if (me.credentialKind !== CredentialKind.API_KEY) {
      renderKeyForm("This is an employee token. The settings page needs an account API key (sbk_…).");
      return;
    }
    who.textContent = me.account?.name ?? "";
  } catch (err) {
    renderKeyForm(codeOf(err) === Code.Unauthenticated ? "This key is not valid (or was revoked)." : describeError(err));
    return;
  }
  settings = new SettingsView();
  live = new LiveView();
  app.replaceChildren(
    h(
      "header",
      null,
      h("h1", null, "Integration with CRM"),
      h(
        "nav",
        null,
        h("button", { type: "button", "data-route": "settings", "data-testid": "nav-settings", onclick: () => void navigate("settings") }, "Settings"),
        h("button", { type: "button", "data-route": "live", "data-testid": "nav-live", onclick: () => void navigate("live") }, "Notifications & access"),
        h("button", { type: "button", "data-route": "team", "data-testid": "nav-team", onclick: () => void navigate("team") }, "Team"),
      ),
      h("div", { class: "who" }, who, h("button", { type: "button", class: "link", "data-testid": "api-key-change", onclick: () => void signOut() }, "Change key")),
    ),
    main,
  );
  main.replaceChildren();
  route = routeFromHash();
  setHash(route);
  show();
}

void start();
