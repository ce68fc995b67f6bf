// Live blotter: orders, fills and positions in virtualised grids, sortable (click a header)
// and filterable ("AAPL", "status:filled side:buy"). Cancel and replace from a row.

import { Grid } from "../grid.js";
import { h, dialog, field, input } from "../dom.js";

const ORDER_COLS = [
  { key: "created_at", title: "Created (UTC)", width: 190 },
  { key: "cl_ord_id", title: "ClOrdID", width: 150 },
  { key: "account", title: "Account", width: 80 },
  { key: "instrument", title: "Instr", width: 70 },
  { key: "side", title: "Side", width: 50, cls: (r) => r.side },
  { key: "order_type", title: "Type", width: 90 },
  { key: "quantity", title: "Qty", width: 80, num: true },
  { key: "price", title: "Limit", width: 80, num: true },
  { key: "stop_price", title: "Stop", width: 70, num: true },
  { key: "status", title: "Status", width: 130, cls: (r) => `st-${r.status}` },
  { key: "filled_quantity", title: "Filled", width: 80, num: true },
  { key: "leaves_quantity", title: "Leaves", width: 80, num: true },
  { key: "average_price", title: "Avg px", width: 90, num: true },
  { key: "venue", title: "Venue", width: 70 },
  { key: "parent_id", title: "Parent", width: 90 },
];
const FILL_COLS = [
  { key: "executed_at", title: "Time (UTC)", width: 190 },
  { key: "exec_id", title: "ExecID", width: 170 },
  { key: "cl_ord_id", title: "ClOrdID", width: 150 },
  { key: "account", title: "Account", width: 80 },
  { key: "instrument", title: "Instr", width: 70 },
  { key: "side", title: "Side", width: 50, cls: (r) => r.side },
  { key: "quantity", title: "Qty", width: 80, num: true },
  { key: "price", title: "Price", width: 90, num: true },
  { key: "liquidity", title: "Liq", width: 70 },
  { key: "venue", title: "Venue", width: 80 },
];
const POS_COLS = [
  { key: "account", title: "Account", width: 100 },
  { key: "instrument", title: "Instr", width: 90 },
  { key: "net_quantity", title: "Net qty", width: 100, num: true },
  { key: "average_cost", title: "Avg cost", width: 110, num: true },
  { key: "realized_pnl", title: "Realised P&L", width: 120, num: true },
  { key: "currency", title: "Ccy", width: 60 },
  { key: "traded_quantity", title: "Traded", width: 100, num: true },
  { key: "fills", title: "Fills", width: 70, num: true },
];
const OPEN = new Set(["SUBMITTED", "ACCEPTED", "PARTIALLY_FILLED", "PENDING_TRIGGER", "HELD",
  "ACK_OVERDUE", "PENDING_REPLACE"]);

export function mount(el, ctx) {
  const { api, store } = ctx;
  const status = h("span.status-line", { id: "blotter-status" });
  const filter = h("input", { id: "blotter-filter", placeholder: "filter: AAPL  status:filled  side:buy",
    size: 40, spellcheck: "false" });
  const tabs = {};
  const panes = {};
  let active = "orders";
  const tabBar = h("div.tabs.toolbar", {});
  const gridBox = h("div", { style: "flex:1;min-height:0;display:flex;flex-direction:column" });
  const msg = h("span.error", { id: "blotter-message", role: "alert" });

  function button(text, onclick, cls = "button.small") {
    return h(cls, { type: "button", onclick, dataset: { action: text.toLowerCase() } }, text);
  }

  async function cancel(row) {
    msg.textContent = "";
    try {
      await api.del(`/v1/orders/${encodeURIComponent(row.cl_ord_id)}`);
    } catch (e) {
      msg.textContent = e.describe ? e.describe() : String(e);
    }
  }

  async function replace(row) {
    const v = await dialog(`Replace ${row.cl_ord_id}`, [
      field("Quantity", input("quantity", { value: row.quantity })),
      field("Limit price", input("price", { value: row.price ?? "" })),
      field("Stop price", input("stop_price", { value: row.stop_price ?? "" })),
    ], { submit: "Replace" });
    if (!v) return;
    const body = {};
    if (v.quantity && v.quantity !== row.quantity) body.quantity = v.quantity;
    if (v.price && v.price !== row.price) body.price = v.price;
    if (v.stop_price && v.stop_price !== row.stop_price) body.stop_price = v.stop_price;
    msg.textContent = "";
    try {
      await api.patch(`/v1/orders/${encodeURIComponent(row.cl_ord_id)}`, body);
    } catch (e) {
      msg.textContent = e.describe ? e.describe() : String(e);
    }
  }

  const grids = {
    orders: new Grid(panes.orders = h("div", { id: "grid-orders" }), {
      columns: ORDER_COLS, rowKey: (r) => r.cl_ord_id,
      actions: (r) => (OPEN.has(r.status) && !r.is_parent
        ? [button("Cancel", () => cancel(r)), button("Replace", () => replace(r))]
        : [button("Flow", () => ctx.navigate(`#/flow/${encodeURIComponent(r.cl_ord_id)}`))]),
      onRowClick: () => {},
    }),
    fills: new Grid(panes.fills = h("div", { id: "grid-fills" }), {
      columns: FILL_COLS, rowKey: (r) => r.exec_id,
    }),
    positions: new Grid(panes.positions = h("div", { id: "grid-positions" }), {
      columns: POS_COLS, rowKey: (r) => `${r.account}/${r.instrument}`,
    }),
  };
  grids.orders.sortBy("created_at");
  grids.orders.sortBy("created_at"); // newest first
  grids.fills.sortBy("executed_at");
  grids.fills.sortBy("executed_at");

  function counts() {
    const g = grids[active];
    const lat = store.latencyStats();
    const l = lat.n ? ` · update latency p50 ${lat.p50} ms, p99 ${lat.p99} ms (${lat.n} events)` : "";
    status.textContent = `${g.view.length} of ${g.data.length} ${active}${l}`;
  }
  grids.orders.onChange = () => {
    store.painted();
    counts();
  };
  grids.fills.onChange = counts;
  grids.positions.onChange = counts;

  for (const name of ["orders", "fills", "positions"]) {
    tabs[name] = button(name[0].toUpperCase() + name.slice(1), () => show(name));
    tabs[name].id = `tab-${name}`;
    tabBar.append(tabs[name]);
  }

  function show(name) {
    active = name;
    for (const [n, b] of Object.entries(tabs)) b.classList.toggle("active", n === name);
    gridBox.replaceChildren(panes[name]);
    grids[name].setFilter(filter.value);
    grids[name].paint();
  }

  filter.addEventListener("input", () => grids[active].setFilter(filter.value));
  const off = store.on((what) => {
    if (what === "orders") grids.orders.setData(store.orderRows);
    if (what === "fills") grids.fills.setData(store.fills);
    if (what === "positions") grids.positions.setData(store.positions);
  });
  grids.orders.setData(store.orderRows);
  grids.fills.setData(store.fills);
  grids.positions.setData(store.positions);

  el.append(h("div.toolbar", {}, tabBar, filter, status), msg, gridBox);
  show(ctx.params[0] || "orders");
  store.measuring = true;
  return () => {
    store.measuring = false;
    store.pendingLatency = [];
    off();
  };
}
