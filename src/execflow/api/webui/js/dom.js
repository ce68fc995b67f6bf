// Tiny DOM helpers: h("tag.class", {attrs}, ...children). Text is always set as text, never as
// HTML, so nothing from the server is ever parsed as markup.

export function h(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value") el.value = v;
    else if (k === "style") el.style.cssText = v; // CSSOM: allowed under style-src 'self'
    else if (k === "hidden") el.hidden = !!v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function table(columns, rows, { id } = {}) {
  return h("table.plain", { id },
    h("thead", {}, h("tr", {}, columns.map((c) => h(c.num ? "th.num" : "th", {}, c.title)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, columns.map((c) => {
      const v = c.get ? c.get(r) : r[c.key];
      const td = h(c.num ? "td.num" : "td", {}, v == null ? "" : v);
      if (c.cls) {
        const cls = c.cls(r);
        if (cls) td.classList.add(cls);
      }
      return td;
    })))));
}

export function field(label, input) {
  return h("label", {}, label, input);
}

export function select(name, options, value) {
  return h("select", { name, id: `f-${name}` },
    options.map((o) => {
      const [v, text] = Array.isArray(o) ? o : [o, o];
      return h("option", { value: v, selected: v === value }, text);
    }));
}

export function input(name, attrs = {}) {
  return h("input", { name, id: `f-${name}`, autocomplete: "off", spellcheck: "false", ...attrs });
}

export function message(el, text, ok = false) {
  el.textContent = text;
  el.className = ok ? "ok" : "error";
}

// a modal dialog; resolves with the form's values, or null when cancelled
export function dialog(title, fields, { submit = "OK", danger = false, note } = {}) {
  return new Promise((resolve) => {
    const form = h("form", { method: "dialog" },
      h("h2", {}, title),
      note ? h("p.muted", {}, note) : null,
      fields,
      h("div.toolbar", {},
        h(danger ? "button.danger" : "button", { type: "submit", value: "ok", id: "dlg-ok" }, submit),
        h("button", { type: "button", id: "dlg-cancel", onclick: () => { d.close(); } }, "Cancel")));
    const d = h("dialog", {}, form);
    let ok = false;
    form.addEventListener("submit", () => { ok = true; });
    d.addEventListener("close", () => {
      const values = ok ? Object.fromEntries(new FormData(form)) : null;
      d.remove();
      resolve(values);
    });
    document.body.appendChild(d);
    d.showModal();
  });
}
