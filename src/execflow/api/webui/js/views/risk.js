// Risk: utilisation of every configured limit (bars), kill switches, recent alerts and rejects.
// Admin keys get the kill switch, behind a confirmation that records who and why.

import { h, table, dialog, field, input, message } from "../dom.js";

function level(pct) {
  const p = Number(pct);
  return p >= 100 ? "BREACH" : p >= 80 ? "WARNING" : "OK";
}

export function mount(el, ctx) {
  const { api, session } = ctx;
  const body = h("div.cols", { id: "risk-body" });
  const msg = h("p", { id: "risk-message", role: "alert" });
  let timer = null;
  const stressBox = h("div.panel", { id: "risk-stress" }, h("h2", {}, "Stress"),
    session.all_accounts
      ? h("button", { type: "button", id: "stress-run", onclick: () => stress() }, "Run historical scenarios")
      : h("p.muted", {}, "firm-wide stress needs a key on every account"));

  async function stress() {
    try {
      const r = await api.post("/v1/risk/stress", { historical: true });
      stressBox.replaceChildren(h("h2", {}, `Stress (${r.base_currency}, ${r.backend})`),
        h("p", {}, "worst loss ", h("b", { id: "stress-worst" }, `${r.worst_loss} ${r.base_currency}`), ` (${r.worst})`),
        table([{ key: "name", title: "Scenario" }, { key: "kind", title: "Kind" },
          { key: "pnl", title: `P&L (${r.base_currency})`, num: true,
            cls: (x) => (x.pnl.startsWith("-") ? "SELL" : "BUY") }], r.scenarios),
        h("button", { type: "button", id: "stress-run", onclick: () => stress() }, "Run again"));
    } catch (e) {
      message(msg, e.describe ? e.describe() : String(e));
    }
  }

  async function kill(engage) {
    const accounts = session.all_accounts ? [] : session.accounts;
    const v = await dialog(engage ? "Engage the kill switch" : "Release the kill switch", [
      field("Account (empty: every account)", input("account", { placeholder: accounts[0] || "all accounts" })),
      field("Who", input("who", { value: session.key_id, required: true })),
      field("Why", input("why", { required: true })),
      field(`Type ${engage ? "KILL" : "RELEASE"} to confirm`, input("confirm", { required: true })),
    ], {
      submit: engage ? "Engage kill switch" : "Release", danger: engage,
      note: engage ? "Cancels every open order of the scope and blocks new ones until released." : null,
    });
    if (!v) return;
    if (v.confirm !== (engage ? "KILL" : "RELEASE")) {
      message(msg, "not confirmed: nothing done");
      return;
    }
    try {
      const r = await api.post(`/v1/admin/kill-switch${engage ? "" : "/release"}`,
        { account: v.account || null, who: v.who, why: v.why });
      message(msg, engage ? `kill switch engaged on ${r.scope}: ${r.cancels_sent} cancels sent`
        : `kill switch on ${r.scope} ${r.released ? "released" : "was not engaged"}`, true);
      refresh();
    } catch (e) {
      message(msg, e.describe ? e.describe() : String(e));
    }
  }

  async function refresh() {
    try {
      const r = await api.get("/v1/risk");
      const ks = r.kill_switch;
      const state = ks.all_accounts || ks.accounts.length
        ? h("span.kill-on", { id: "kill-state" }, `ENGAGED: ${ks.all_accounts ? "ALL ACCOUNTS" : ks.accounts.join(", ")}`)
        : h("span.ok", { id: "kill-state" }, "not engaged");
      const controls = session.admin ? h("div.toolbar", {},
        h("button.danger", { type: "button", id: "kill-engage", onclick: () => kill(true) }, "Kill switch…"),
        h("button", { type: "button", id: "kill-release", onclick: () => kill(false) }, "Release…")) : null;
      body.replaceChildren(
        h("div.panel", {}, h("h2", {}, "Kill switch"), state, controls),
        stressBox,
        h("div.panel", { id: "risk-utilisation" }, h("h2", {}, "Utilisation per limit"),
          r.utilisation.length ? table([
            { key: "account", title: "Account" }, { key: "limit", title: "Limit" },
            { key: "key", title: "On" }, { key: "used", title: "Used", num: true },
            { key: "limit_value", title: "Limit", num: true },
            { key: "utilisation_pct", title: "%", num: true },
            { key: "bar", title: "", get: (u) => h(`div.bar.${level(u.utilisation_pct)}`, {},
              h("span", { style: `width:${Math.min(100, Number(u.utilisation_pct))}%` })) },
          ], r.utilisation) : h("p.muted", {}, "no limits configured")),
        h("div.panel", { id: "risk-alerts" }, h("h2", {}, "Alerts"),
          r.alerts.length ? table([
            { key: "time", title: "Time (UTC)" }, { key: "level", title: "Level", cls: (a) => a.level === "BREACH" ? "SELL" : null },
            { key: "account", title: "Account" }, { key: "limit", title: "Limit" }, { key: "key", title: "On" },
            { key: "utilisation_pct", title: "%", num: true },
          ], r.alerts) : h("p.muted", {}, "no alerts")),
        h("div.panel", { id: "risk-rejects" }, h("h2", {}, "Recent rejects"),
          r.rejects.length ? table([
            { key: "time", title: "Time (UTC)" }, { key: "cl_ord_id", title: "ClOrdID" },
            { key: "code", title: "Code" }, { key: "reason", title: "Reason" }, { key: "by", title: "By" },
          ], r.rejects) : h("p.muted", {}, "no rejects")));
    } catch (e) {
      message(msg, e.describe ? e.describe() : String(e));
    }
  }

  el.append(msg, body);
  refresh();
  timer = setInterval(refresh, 2000);
  return () => clearInterval(timer);
}
