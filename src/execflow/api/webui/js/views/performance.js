// Performance: fills against the venue's BBO over time, slippage distribution against the mid
// (bps, positive = cost to the client), ack latency histogram (submitted -> accepted), the
// blotter's own update latency, venue comparison, and the server's latency percentiles.
// Fills and acks come from the stream from the start of the log (type-filtered), then live.

import { Stream } from "../api.js";
import { isoMs, percentile } from "../store.js";
import { histogram, timeSeries } from "../charts.js";
import { h, table, select } from "../dom.js";

export function mount(el, ctx) {
  const { api, store, instruments } = ctx;
  const fills = [];
  const submitted = new Map();
  const ackMs = [];
  const instr = select("perf-instrument", instruments.map((i) => i.id));
  const charts = h("div.cols", { id: "perf-body" });
  const server = h("div.panel", { id: "perf-server" });
  const tca = h("div.panel", { id: "perf-tca", style: "grid-column: 1 / -1" }, h("h2", {}, "TCA"));
  let dirty = true;

  const stream = new Stream(api.key, {
    after: 0,
    params: { type: ["order.filled"] },
    onEvents: () => {},
  });
  // URLSearchParams cannot repeat a key from an object: build the query by hand
  stream.url = function url() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const q = `heartbeat=5&after=${this.after ?? 0}&type=order.filled&type=order.submitted&type=order.accepted`;
    return `${proto}://${location.host}/v1/stream?${q}`;
  };
  stream.onEvents = (evs) => {
    for (const ev of evs) {
      const t = isoMs(ev.time);
      if (ev.type === "order.submitted") submitted.set(ev.cl_ord_id, t);
      else if (ev.type === "order.accepted") {
        const s0 = submitted.get(ev.cl_ord_id);
        if (s0 != null) {
          ackMs.push(t - s0);
          submitted.delete(ev.cl_ord_id);
        }
      } else if (ev.type === "order.filled") {
        const d = ev.data;
        const px = Number(d.last_px);
        const bid = d.bid != null ? Number(d.bid) : null;
        const ask = d.ask != null ? Number(d.ask) : null;
        const o = store.orders.get(ev.cl_ord_id);
        const side = o ? o.side : null;
        let slip = null;
        if (bid != null && ask != null && side) {
          const mid = (bid + ask) / 2;
          slip = ((side === "BUY" ? 1 : -1) * (px - mid) / mid) * 1e4;
        }
        fills.push({ t, instrument: ev.instrument, px, bid, ask, side, slip, venue: d.venue || "?",
          liquidity: d.liquidity, qty: Number(d.last_qty) });
      }
    }
    dirty = true;
  };
  stream.onState = () => {};
  stream.open();

  function draw() {
    if (!dirty) return;
    dirty = false;
    const mine = fills.filter((f) => f.instrument === instr.value).slice(-2000);
    const bbo = mine.filter((f) => f.bid != null && f.ask != null);
    const slips = fills.map((f) => f.slip).filter((x) => x != null && Number.isFinite(x));
    const venues = new Map();
    for (const f of fills) {
      const v = venues.get(f.venue) || { venue: f.venue, fills: 0, qty: 0, slip: 0, nslip: 0, maker: 0 };
      v.fills += 1;
      v.qty += f.qty;
      if (f.slip != null) { v.slip += f.slip; v.nslip += 1; }
      if (f.liquidity === "MAKER") v.maker += 1;
      venues.set(f.venue, v);
    }
    const lat = [...store.latencies];
    const sortedSlips = [...slips].sort((a, b) => a - b);
    charts.replaceChildren(
      h("div.panel", { style: "grid-column: 1 / -1" }, h("h2", {}, `Fills vs BBO: ${instr.value}`),
        timeSeries([
          { points: bbo.map((f) => [f.t, f.bid]), color: "#39c27a", line: true },
          { points: bbo.map((f) => [f.t, f.ask]), color: "#ff6b6b", line: true },
          { points: mine.filter((f) => f.side === "BUY").map((f) => [f.t, f.px]), color: "#8fe3b5" },
          { points: mine.filter((f) => f.side === "SELL").map((f) => [f.t, f.px]), color: "#ffb0b0" },
        ], { label: "bid (green line), ask (red line), buy fills, sell fills", id: "chart-bbo" })),
      h("div.panel", {}, h("h2", {}, "Slippage vs mid (bps, + = cost)"),
        histogram(slips, { label: "slippage bps", id: "chart-slippage" }),
        h("p.muted", {}, slips.length
          ? `p50 ${percentile(sortedSlips, 50).toFixed(2)} bps, p90 ${percentile(sortedSlips, 90).toFixed(2)} bps` : "")),
      h("div.panel", {}, h("h2", {}, "Ack latency (submitted → accepted, ms)"),
        histogram(ackMs, { label: "ack ms", id: "chart-ack" })),
      h("div.panel", {}, h("h2", {}, "Blotter update latency (event → screen, ms)"),
        histogram(lat, { label: "update ms", id: "chart-update" })),
      h("div.panel", { id: "perf-venues" }, h("h2", {}, "Venue comparison"),
        table([{ key: "venue", title: "Venue" }, { key: "fills", title: "Fills", num: true },
          { key: "qty", title: "Qty", num: true },
          { key: "avg", title: "Avg slip bps", num: true, get: (v) => (v.nslip ? (v.slip / v.nslip).toFixed(2) : "") },
          { key: "maker", title: "Maker %", num: true, get: (v) => ((100 * v.maker) / v.fills).toFixed(1) }],
        [...venues.values()])),
      server, tca);
  }

  // the server's HTML report (plotly embedded: it opens offline) saved as a file: this page's
  // policy allows no inline script, so it is not shown here
  async function downloadReport() {
    const r = await fetch("/v1/tca/report", { headers: { "X-API-Key": api.key } });
    const blob = new Blob([await r.text()], { type: "text/html" });
    const a = h("a", { href: URL.createObjectURL(blob), download: "tca-report.html" });
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  async function tcaSummary() {
    try {
      const t = await api.get("/v1/tca/summary");
      const d = t.distribution_bps || {};
      tca.replaceChildren(h("h2", {}, `TCA: implementation shortfall (${t.orders} orders, ${t.fills} fills; + = cost)`),
        table([{ key: "currency", title: "Ccy" }, { key: "orders", title: "Orders", num: true },
          { key: "delay_bps", title: "Delay bps", num: true }, { key: "trading_bps", title: "Trading bps", num: true },
          { key: "opportunity_bps", title: "Opportunity bps", num: true }, { key: "fees_bps", title: "Fees bps", num: true },
          { key: "total_bps", title: "Total bps", num: true }, { key: "total", title: "Total", num: true }],
        t.totals_by_currency || []),
        h("p.muted", {}, `shortfall distribution (bps): ${Object.entries(d).map(([k, v]) => `${k} ${v}`).join(", ")}`),
        h("button", { type: "button", id: "tca-report", onclick: downloadReport }, "Download the TCA report (HTML)"));
    } catch (e) {
      tca.replaceChildren(h("h2", {}, "TCA"), h("p.muted", {}, e.describe ? e.describe() : String(e)));
    }
  }

  async function serverStats() {
    try {
      const m = await api.get("/v1/monitoring");
      const ex = m.execution || {};
      const lat = ex.latency_ns || {};
      const rows = Object.entries(lat).map(([k, v]) => ({ k, ...((v && v.percentiles) || v || {}) }));
      const ms = (ns) => (ns == null ? "" : (Number(ns) / 1e6).toFixed(3));
      server.replaceChildren(h("h2", {}, "Server latency percentiles (ms)"),
        rows.length ? table([{ key: "k", title: "latency" },
          { key: "p50", title: "p50", num: true, get: (r) => ms(r.p50) },
          { key: "p90", title: "p90", num: true, get: (r) => ms(r.p90) },
          { key: "p99", title: "p99", num: true, get: (r) => ms(r.p99) },
          { key: "count", title: "n", num: true }], rows)
          : h("p.muted", {}, "per-account keys see their accounts' fill statistics only"));
      dirty = true;
    } catch {
      /* keep the last view */
    }
  }

  instr.addEventListener("change", () => { dirty = true; draw(); });
  el.append(h("div.toolbar", {}, h("label", {}, "Instrument", instr)), charts);
  serverStats();
  tcaSummary();
  const timer = setInterval(draw, 500);
  const timer3 = setInterval(tcaSummary, 10000);
  const timer2 = setInterval(serverStats, 5000);
  return () => {
    clearInterval(timer);
    clearInterval(timer2);
    clearInterval(timer3);
    stream.close();
  };
}
