// An in-page modal dialog that resolves to the chosen button's value.
import { h } from "./dom.js";

export interface Choice<T extends string> {
  value: T;
  label: string;
  testid: string;
  kind?: "primary" | "danger" | "plain";
}

/**
 * Shows a dialog and resolves with the chosen value; Escape or a click
 * outside resolves with `cancel`.
 */
export function choose<T extends string>(opts: {
  title: string;
  text: string;
  choices: Choice<T>[];
  cancel: T;
  testid?: string;
}): Promise<T> {
  return new Promise((resolve) => {
    const prev = document.activeElement as HTMLElement | null;
    const done = (v: T) => {
      document.removeEventListener("keydown", onKey, true);
      overlay.remove();
      prev?.focus?.();
      resolve(v);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        e.preventDefault();
        done(opts.cancel);
      }
    };
    const buttons = opts.choices.map((c) =>
      h("button", { type: "button", class: `btn ${c.kind ?? "plain"}`, "data-testid": c.testid, onclick: () => done(c.value) }, c.label),
    );
    const box = h(
      "div",
      { class: "dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": "dialog-title", "data-testid": opts.testid ?? "dialog" },
      h("h2", { id: "dialog-title" }, opts.title),
      h("p", null, opts.text),
      h("div", { class: "dialog-buttons" }, buttons),
    );
    const overlay = h("div", { class: "overlay", onclick: (e: MouseEvent) => e.target === overlay && done(opts.cancel) }, box);
    document.addEventListener("keydown", onKey, true);
    document.body.appendChild(overlay);
    buttons[0]?.focus();
  });
}

export type LeaveChoice = "save" | "discard" | "stay";

/** The unsaved-changes question: save, discard or stay. */
export function askLeave(): Promise<LeaveChoice> {
  return choose<LeaveChoice>({
    title: "Unsaved changes",
    text: "You changed the settings and did not save them. Save them now, discard them, or stay on this page?",
    choices: [
      { value: "save", label: "Save", testid: "leave-save", kind: "primary" },
      { value: "discard", label: "Discard", testid: "leave-discard", kind: "danger" },
      { value: "stay", label: "Stay", testid: "leave-stay" },
    ],
    cancel: "stay",
    testid: "leave-dialog",
  });
}
