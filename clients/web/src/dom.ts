// A tiny element builder: the page is plain DOM, rebuilt per view.

type AttrValue = string | number | boolean | null | undefined | ((ev: any) => void);
export type Attrs = Record<string, AttrValue>;
export type Child = Node | string | null | undefined | false | Child[];

/**
 * Creates an element. Attributes starting with "on" add listeners; `value`
 * and `checked` are set as properties; false, null and undefined are left
 * out; true sets an empty attribute.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === false || v === null || v === undefined) continue;
    if (typeof v === "function") {
      el.addEventListener(k.slice(2).toLowerCase(), v);
    } else if (k === "value") {
      (el as HTMLInputElement).value = String(v);
    } else if (k === "checked") {
      (el as HTMLInputElement).checked = Boolean(v);
    } else if (k === "class") {
      el.className = String(v);
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

/** Replaces an element's children, leaving out what h leaves out. */
export function fill(el: Node & ParentNode, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  }
}

/** A <select> with the given options; the selected one matches `value`. */
export function select(
  attrs: Attrs,
  options: { value: string; label: string; disabled?: boolean }[],
  value: string,
): HTMLSelectElement {
  const el = h(
    "select",
    attrs,
    options.map((o) => h("option", { value: o.value, disabled: o.disabled, selected: o.value === value }, o.label)),
  );
  el.value = value;
  return el;
}

/** Formats a time for the admin, in the browser's locale. */
export function formatTime(d: Date | undefined): string {
  if (!d || Number.isNaN(d.getTime())) return "—";
  return d.toLocaleString();
}
