// Settlement: obligations (status counts, fails), and the cash projection by value date.

import { h, table, select, message } from "../dom.js";

export function mount(el, ctx) {
  const { api, session } = ctx;
  const msg = h("p", { id: "settlement-message", role: "alert" });
  const body = h("div.cols", { id: "settlement-body" });
  const accounts = session.all_accounts ? [] : session.accounts;
  const acct = accounts.length ? select("settle-account", accounts, accounts[0]) : null;
  const ccy = select("settle-ccy", ["USD", "EUR", "GBP", "JPY"], "USD");

  async function refresh() {
    try {
      const q = acct ? `?account=${encodeURIComponent(acct.value)}` : "";
      const obs = await api.get(`/v1/settlement/obligations${q}${q ? "&" : "?"}limit=1000`);
      const cashQ = new URLSearchParams({ currency: ccy.value, days: "10" });
      if (acct) cashQ.set("account", acct.value);
      let cash = null;
      try {
        cash = await api.get(`/v1/settlement/cash-projection?${cashQ}`);
      } catch (e) {
        cash = { error: e.describe ? e.describe() : String(e) };
      }
      const fails = obs.items.filter((o) => o.status === "FAILED" || o.fail_reason);
      body.replaceChildren(
        h("div.panel", { id: "settlement-counts" }, h("h2", {}, "Obligations by status"),
          table([{ key: "k", title: "Status" }, { key: "v", title: "Count", num: true }],
            Object.entries(obs.counts).map(([k, v]) => ({ k, v })))),
        h("div.panel", { id: "settlement-cash" }, h("h2", {}, `Cash projection (${ccy.value})`),
          cash.error ? h("p.muted", {}, cash.error) : table([
            { key: "value_date", title: "Value date" }, { key: "flow", title: "Flow", num: true },
            { key: "balance", title: "Balance", num: true }], cash.rows)),
        h("div.panel", { id: "settlement-fails" }, h("h2", {}, `Fails (${fails.length})`),
          fails.length ? table([{ key: "obligation_id", title: "Obligation" }, { key: "instrument", title: "Instr" },
            { key: "quantity", title: "Qty", num: true }, { key: "intended_settle_date", title: "ISD" },
            { key: "fail_reason", title: "Reason" }], fails) : h("p.muted", {}, "no fails")),
        h("div.panel", { id: "settlement-obligations", style: "grid-column: 1 / -1" },
          h("h2", {}, `Obligations (${obs.items.length})`),
          table([{ key: "obligation_id", title: "Obligation" }, { key: "account", title: "Account" },
            { key: "instrument", title: "Instr" }, { key: "side", title: "Side", cls: (o) => o.side },
            { key: "quantity", title: "Qty", num: true }, { key: "price", title: "Price", num: true },
            { key: "cash_amount", title: "Cash", num: true }, { key: "currency", title: "Ccy" },
            { key: "trade_date", title: "Trade date" }, { key: "intended_settle_date", title: "Settles" },
            { key: "status", title: "Status" }], obs.items.slice(0, 500))));
    } catch (e) {
      message(msg, e.describe ? e.describe() : String(e));
    }
  }
  const controls = h("div.toolbar", {}, acct ? h("label", {}, "Account", acct) : null,
    h("label", {}, "Currency", ccy), h("button", { type: "button", onclick: refresh }, "Refresh"));
  if (acct) acct.addEventListener("change", refresh);
  ccy.addEventListener("change", refresh);
  el.append(controls, msg, body);
  refresh();
  const timer = setInterval(refresh, 5000);
  return () => clearInterval(timer);
}
