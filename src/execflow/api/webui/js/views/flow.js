// Execution flow of one order: its lifecycle (every committed event with its time), the
// parent -> children tree (algo slices, contingent group members), and an algo's decisions
// (schedule, routing, each with its reason).

import { h, table, input } from "../dom.js";

const SKIP = new Set(["cl_ord_id", "ts", "account", "instrument"]);

function summary(ev) {
  return Object.entries(ev.data || {})
    .filter(([k, v]) => !SKIP.has(k) && v != null && v !== "" && !(Array.isArray(v) && !v.length))
    .map(([k, v]) => {
      const text = typeof v === "object" ? JSON.stringify(v) : String(v);
      return `${k}=${text.length > 80 ? `${text.slice(0, 79)}…` : text}`; // a schedule is long
    })
    .join("  ");
}

export function mount(el, ctx) {
  const { api, store } = ctx;
  const id = input("flow-id", { placeholder: "client order id", value: ctx.params[0] || "", size: 30 });
  const body = h("div.cols", { id: "flow-body" });
  const err = h("p.error", { id: "flow-error", role: "alert" });
  let current = null;

  function tree(rootId) {
    const kids = (p) => store.orderRows.filter((o) => o.parent_id === p);
    const node = (o) => h("li", {},
      h("a", { href: `#/flow/${encodeURIComponent(o.cl_ord_id)}` }, o.cl_ord_id), " ",
      h(`span.${o.side}`, {}, o.side), ` ${o.quantity} ${o.instrument} `,
      h(`span.st-${o.status}`, {}, o.status), o.role ? ` (${o.role})` : "",
      o.filled_quantity !== "0" ? ` filled ${o.filled_quantity} @ ${o.average_price}` : "",
      kids(o.cl_ord_id).length ? h("ul", {}, kids(o.cl_ord_id).map(node)) : null);
    const root = store.orders.get(rootId);
    if (!root) return h("p.muted", {}, "not in the blotter");
    let top = root;
    while (top.parent_id && store.orders.get(top.parent_id)) top = store.orders.get(top.parent_id);
    const siblings = top.group_id
      ? store.orderRows.filter((o) => o.group_id === top.group_id && !o.parent_id) : [top];
    return h("ul.tree", { id: "flow-tree" }, siblings.map(node));
  }

  async function load(cl) {
    current = cl;
    err.textContent = "";
    body.replaceChildren();
    if (!cl) return;
    try {
      const [order, events] = await Promise.all([
        api.get(`/v1/orders/${encodeURIComponent(cl)}`),
        api.get(`/v1/orders/${encodeURIComponent(cl)}/events`),
      ]);
      if (current !== cl) return;
      const t0 = events.items.length ? Date.parse(events.items[0].time.replace(/(\.\d{3})\d+/, "$1")) : 0;
      const timeline = h("ol.timeline", { id: "flow-timeline" }, events.items.map((ev) => {
        const dt = Date.parse(ev.time.replace(/(\.\d{3})\d+/, "$1")) - t0;
        return h("li", { dataset: { type: ev.type } },
          h("div", {}, h("b", {}, ev.type), " ", h("span.t", {}, `${ev.time}  (+${dt} ms)  seq ${ev.seq}`)),
          h("div.muted", {}, summary(ev)));
      }));
      const detail = table([{ key: "k", title: "field" }, { key: "v", title: "value" }],
        Object.entries(order).filter(([, v]) => v != null).map(([k, v]) => ({ k, v: String(v) })));
      body.append(
        h("div.panel", {}, h("h2", {}, `Lifecycle of ${cl}`), timeline),
        h("div.panel", {}, h("h2", {}, "Parent → children"), tree(cl), h("h2", { style: "margin-top:12px" }, "Order"), detail));
      if (order.is_parent) {
        try {
          const algoEvents = await api.get(`/v1/algos/${encodeURIComponent(cl)}/events`);
          body.append(h("div.panel", { id: "flow-decisions" }, h("h2", {}, "Algo decisions"),
            table([{ key: "time", title: "time" }, { key: "type", title: "event" },
              { get: (r) => summary({ data: r }), key: "s", title: "detail" }],
            algoEvents.items.map((e) => ({ ...e, time: e.time ?? e.ts ?? "" })))));
        } catch {
          /* a parent that is not an algo (manual parent): no decisions */
        }
      }
    } catch (e) {
      err.textContent = e.describe ? e.describe() : String(e);
    }
  }

  id.addEventListener("change", () => ctx.navigate(`#/flow/${encodeURIComponent(id.value.trim())}`));
  el.append(h("div.toolbar", {}, h("label", {}, "Order", id),
    h("button", { type: "button", onclick: () => load(id.value.trim()) }, "Show")), err, body);
  load(id.value.trim());
  const off = store.on((what) => {
    if (what === "orders" && current && store.orders.get(current)) {
      const t = body.querySelector("#flow-tree");
      if (t) t.replaceWith(tree(current));
    }
  });
  return off;
}
