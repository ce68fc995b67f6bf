// Order ticket: market, limit, stop, stop-limit orders, brackets (entry + take profit + stop
// loss) and algo parents (TWAP, VWAP, POV, ...). The API validates; the ticket shows its
// problem details as they come (code, detail, each field's message).

import { h, field, input, select, message } from "../dom.js";

const TYPES = ["MARKET", "LIMIT", "STOP", "STOP_LIMIT"];
const TIFS = ["DAY", "GTC", "IOC", "FOK"];
const STRATEGIES = ["TWAP", "VWAP", "POV", "IS", "ICEBERG"];

function clean(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj)) if (v !== "" && v != null) out[k] = v;
  return out;
}

export function mount(el, ctx) {
  const { api, session, instruments } = ctx;
  const accounts = session.all_accounts ? null : session.accounts;
  const account = accounts
    ? select("account", accounts, session.default_account || accounts[0])
    : input("account", { value: session.default_account || "", placeholder: "account" });
  const kind = select("kind", [["order", "Single order"], ["bracket", "Bracket"], ["algo", "Algo parent"]], "order");
  const instrument = select("instrument", instruments.map((i) => i.id));
  const side = select("side", ["BUY", "SELL"]);
  const type = select("order_type", TYPES, "LIMIT");
  const qty = input("quantity", { value: "100", inputmode: "decimal" });
  const price = input("price", { placeholder: "limit price", inputmode: "decimal" });
  const stop = input("stop_price", { placeholder: "stop price", inputmode: "decimal" });
  const tif = select("time_in_force", TIFS, "DAY");
  const clOrdId = input("cl_ord_id", { placeholder: "optional client order id" });
  const tp = input("take_profit", { placeholder: "take-profit limit" });
  const sl = input("stop_loss", { placeholder: "stop-loss stop" });
  const strategy = select("strategy", STRATEGIES, "TWAP");
  const duration = input("duration", { value: "600", placeholder: "seconds" });
  const out = h("pre.error", { id: "ticket-result", role: "alert" });
  const bracketRow = h("div.wide.toolbar", { id: "ticket-bracket" }, field("Take profit", tp), field("Stop loss", sl));
  const algoRow = h("div.wide.toolbar", { id: "ticket-algo" }, field("Strategy", strategy), field("Duration (s)", duration));

  function sync() {
    bracketRow.hidden = kind.value !== "bracket";
    algoRow.hidden = kind.value !== "algo";
    type.disabled = kind.value === "algo";
    stop.disabled = !["STOP", "STOP_LIMIT"].includes(type.value) || kind.value === "algo";
    price.disabled = type.value === "MARKET" && kind.value !== "algo";
  }
  kind.addEventListener("change", sync);
  type.addEventListener("change", sync);

  async function submit(ev) {
    ev.preventDefault();
    message(out, "");
    const order = clean({
      instrument: instrument.value, side: side.value, quantity: qty.value.trim(),
      order_type: type.value, time_in_force: tif.value, account: account.value.trim(),
      cl_ord_id: clOrdId.value.trim(),
      price: price.disabled ? "" : price.value.trim(),
      stop_price: stop.disabled ? "" : stop.value.trim(),
    });
    try {
      let ack;
      if (kind.value === "bracket") {
        ack = await api.post("/v1/brackets", clean({
          entry: order,
          take_profit: tp.value.trim() ? { price: tp.value.trim() } : null,
          stop_loss: sl.value.trim() ? { stop_price: sl.value.trim() } : null,
        }));
        message(out, `bracket ${ack.group_id} ${ack.status}: ${(ack.members || []).map((m) => `${m.cl_ord_id} (${m.role})`).join(", ")}`, true);
      } else if (kind.value === "algo") {
        const body = clean({
          algo: strategy.value, instrument: order.instrument, side: order.side,
          quantity: order.quantity, account: order.account, cl_ord_id: order.cl_ord_id,
          price: order.price,
          duration_s: ["TWAP", "VWAP", "IS"].includes(strategy.value) ? duration.value.trim() : "",
          participation_pct: strategy.value === "POV" ? "10" : "",
          display_qty: strategy.value === "ICEBERG" ? "100" : "",
        });
        ack = await api.post("/v1/algos", body);
        message(out, `algo ${ack.algo_id ?? ack.cl_ord_id} ${ack.state ?? ack.status ?? "accepted"}`, true);
      } else {
        ack = await api.post("/v1/orders", order);
        message(out, `order ${ack.cl_ord_id} ${ack.status}`, true);
      }
      out.dataset.clOrdId = ack.cl_ord_id ?? ack.group_id ?? ack.algo_id ?? "";
    } catch (e) {
      message(out, e.describe ? e.describe() : String(e));
    }
  }

  const form = h("form.ticket", { id: "ticket", onsubmit: submit, novalidate: true },
    field("Kind", kind), field("Account", account), field("Instrument", instrument), field("Side", side),
    field("Type", type), field("Quantity", qty), field("Limit price", price), field("Stop price", stop),
    field("Time in force", tif), h("div", { style: "grid-column: span 3" }, field("ClOrdID", clOrdId)),
    bracketRow, algoRow,
    h("div.wide.toolbar", {}, h("button", { type: "submit", id: "ticket-submit" }, "Submit")),
    h("div.wide", {}, out));
  el.append(h("div.panel", {}, h("h2", {}, "Order ticket"), form));
  sync();
  return () => {};
}
