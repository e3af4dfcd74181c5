// Shows the server's field violations next to the inputs they name.
//
// Inputs carry data-field with the request path they edit (for example
// "settings.channels[0].members[2].weight"); containers carry
// data-errors-for with the path of the part they show. A violation goes
// after the input with its exact path, else into the slot of its nearest
// named ancestor path, else into the general list.
import type { FieldViolation } from "@switchboard/sdk";
import { h } from "./dom.js";

/** The path one step up: "a.b[2].c" → "a.b[2]" → "a.b" → "a" → "". */
export function parentPath(path: string): string {
  const m = /(\[\d+\]|\.[^.[\]]+)$/.exec(path);
  return m ? path.slice(0, m.index) : "";
}

export function showViolations(root: HTMLElement, violations: FieldViolation[], general: HTMLElement): void {
  for (const old of root.querySelectorAll(".field-error")) old.remove();
  for (const old of root.querySelectorAll(".invalid")) {
    old.classList.remove("invalid");
    old.removeAttribute("aria-invalid");
  }
  general.replaceChildren();
  for (const v of violations) {
    const text = `${v.description}`;
    const err = () =>
      h("div", { class: "field-error", role: "alert", "data-testid": "field-error", "data-error-for": v.field }, text);
    let placed = false;
    for (let p = v.field; p && !placed; p = parentPath(p)) {
      const inputs = root.querySelectorAll<HTMLElement>(`[data-field="${CSS.escape(p)}"]`);
      for (const input of inputs) {
        input.classList.add("invalid");
        input.setAttribute("aria-invalid", "true");
        input.insertAdjacentElement("afterend", err());
        placed = true;
      }
      if (placed) break;
      const slots = root.querySelectorAll<HTMLElement>(`[data-errors-for="${CSS.escape(p)}"]`);
      for (const slot of slots) {
        slot.appendChild(err());
        placed = true;
      }
    }
    if (!placed) {
      general.appendChild(
        h("li", { class: "field-error", "data-testid": "general-error", "data-error-for": v.field }, v.field ? `${v.field}: ${text}` : text),
      );
    }
  }
  const first = root.querySelector<HTMLElement>(".invalid, .field-error");
  first?.scrollIntoView({ block: "center", behavior: "instant" as ScrollBehavior });
}
