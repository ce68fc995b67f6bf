// The blotter's state: orders, fills and positions of the key's accounts, loaded over REST and
// kept current from the WebSocket stream. Applying an event is idempotent: an order event at or
// below the row's version, or a fill whose exec_id is known, changes nothing (the REST load and
// the stream overlap by design, so nothing falls between them).

import { Stream } from "./api.js";
import * as dec from "./dec.js";

const STATUS_OF = {
  "order.initialized": "INITIALIZED",
  "order.denied": "DENIED",
  "order.submitted": "SUBMITTED",
  "order.ack_overdue": "ACK_OVERDUE",
  "order.accepted": "ACCEPTED",
  "order.rejected": "REJECTED",
  "order.pending_cancel": "PENDING_CANCEL",
  "order.canceled": "CANCELED",
  "order.pending_replace": "PENDING_REPLACE",
  "order.expired": "EXPIRED",
  "order.held": "HELD",
  "order.pending_trigger": "PENDING_TRIGGER",
  "order.triggered": "TRIGGERED",
  "parent.accepted": "ACCEPTED",
};
// events whose resulting status depends on what came before: the row is re-read over REST
const REREAD = new Set([
  "order.cancel_rejected", "order.replace_rejected", "order.replaced", "order.amended",
  "order.anomaly", "parent.filled",
]);

export function isoMs(t) {
  return t ? Date.parse(t.replace(/(\.\d{3})\d+/, "$1")) : NaN;
}

export function percentile(sorted, p) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export class Store {
  constructor(api) {
    this.api = api;
    this.orders = new Map();
    this.orderRows = [];
    this.fills = [];
    this.fillIds = new Set();
    this.positions = [];
    this.listeners = new Set();
    this.stream = null;
    this.state = "offline";
    this.reread = new Set();
    this.rereadTimer = null;
    this.positionsTimer = null;
    this.pendingLatency = []; // event times (ms) applied since the last paint
    this.latencies = []; // event time -> on screen, ms, the last 5000
    this.eventsApplied = 0;
    this.loaded = false;
    this.measuring = false; // the blotter is on screen
  }

  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(what) {
    for (const fn of this.listeners) fn(what);
  }

  async load(onState) {
    const health = await this.api.get("/healthz");
    const head = health.position;
    await this.api.allOrders((items) => {
      for (const o of items) this.putOrder(o);
    });
    await this.api.allExecutions((items) => {
      for (const f of items) this.putFill(f);
    });
    this.positions = (await this.api.get("/v1/positions")).items;
    this.loaded = true;
    this.emit("orders");
    this.emit("fills");
    this.emit("positions");
    this.stream = new Stream(this.api.key, {
      after: head,
      onEvents: (evs) => this.apply(evs),
      onState: (s, info) => {
        this.state = s;
        onState(s, info);
      },
    });
    this.stream.open();
  }

  close() {
    if (this.stream) this.stream.close();
  }

  putOrder(o) {
    const cur = this.orders.get(o.cl_ord_id);
    if (cur) {
      if (cur.version > o.version) return cur;
      Object.assign(cur, o);
      return cur;
    }
    this.orders.set(o.cl_ord_id, o);
    this.orderRows.push(o);
    return o;
  }

  putFill(f) {
    if (this.fillIds.has(f.exec_id)) return false;
    this.fillIds.add(f.exec_id);
    this.fills.push(f);
    return true;
  }

  apply(events) {
    let orders = false;
    let fills = false;
    const now = Date.now();
    for (const ev of events) {
      if (!ev.type.startsWith("order.") && !ev.type.startsWith("parent.")) continue;
      const changed = this.applyOrderEvent(ev);
      if (changed) {
        orders = true;
        this.eventsApplied += 1;
        const t = isoMs(ev.time);
        if (this.measuring && !Number.isNaN(t)) this.pendingLatency.push(t);
      }
      if (ev.type === "order.filled") fills = this.applyFill(ev) || fills;
    }
    if (orders) this.emit("orders");
    if (fills) {
      this.emit("fills");
      this.schedulePositions();
    }
    return now;
  }

  applyOrderEvent(ev) {
    const d = ev.data;
    const cl = ev.cl_ord_id;
    let row = this.orders.get(cl);
    if (ev.type === "order.initialized") {
      if (row) return false;
      row = this.putOrder({
        cl_ord_id: cl, account: d.account, instrument: d.instrument, side: d.side,
        order_type: d.order_type, time_in_force: d.tif, quantity: d.quantity,
        price: d.price ?? null, status: "INITIALIZED", filled_quantity: "0",
        leaves_quantity: d.quantity, average_price: null, venue: d.venue ?? null,
        venue_order_id: null, reject_code: null, reject_reason: null, expire_at: null,
        created_at: ev.time, updated_at: ev.time, version: ev.version,
        stop_price: d.stop_price ?? null, group_id: d.group_id ?? null, role: d.role ?? null,
        parent_id: d.parent_id ?? null, is_parent: !!d.is_parent, _notional: null,
      });
      return true;
    }
    if (!row) {
      this.scheduleReread(cl);
      return false;
    }
    if (ev.version <= row.version) return false;
    row.version = ev.version;
    row.updated_at = ev.time;
    const status = STATUS_OF[ev.type];
    if (status) row.status = status;
    if (ev.type === "order.submitted") row.venue = d.venue;
    if (ev.type === "order.accepted") row.venue_order_id = d.venue_order_id;
    if (ev.type === "order.denied" || ev.type === "order.rejected") {
      row.reject_code = d.code;
      row.reject_reason = d.reason;
    }
    if (ev.type === "order.filled") this.fillOrder(row, d.last_qty, d.last_px);
    if (REREAD.has(ev.type)) this.scheduleReread(cl);
    return true;
  }

  fillOrder(row, qty, px) {
    const q = dec.parse(qty);
    const p = dec.parse(px);
    const filledBefore = dec.parse(row.filled_quantity) ?? { n: 0n, s: 0 };
    const filled = dec.add(filledBefore, q);
    let notional = row._notional;
    if (notional == null) {
      const avg = dec.parse(row.average_price);
      notional = avg ? dec.mul(avg, filledBefore) : { n: 0n, s: 0 };
    }
    notional = dec.add(notional, dec.mul(p, q));
    row._notional = notional;
    row.filled_quantity = dec.format(filled);
    const leaves = dec.sub(dec.parse(row.quantity), filled);
    row.leaves_quantity = dec.format(leaves);
    row.average_price = dec.format(dec.trim(dec.div(notional, filled, p.s + 4), p.s));
    row.status = leaves.n <= 0n ? "FILLED" : "PARTIALLY_FILLED";
  }

  applyFill(ev) {
    const d = ev.data;
    const row = this.orders.get(ev.cl_ord_id);
    return this.putFill({
      seq: ev.seq, exec_id: d.exec_id, cl_ord_id: ev.cl_ord_id, account: ev.account,
      instrument: ev.instrument, side: row ? row.side : d.side ?? "", quantity: d.last_qty,
      price: d.last_px, liquidity: d.liquidity, venue: d.venue, executed_at: ev.time,
      bid: d.bid ?? null, ask: d.ask ?? null,
    });
  }

  scheduleReread(cl) {
    this.reread.add(cl);
    if (this.rereadTimer) return;
    this.rereadTimer = setTimeout(async () => {
      this.rereadTimer = null;
      const ids = [...this.reread].slice(0, 50);
      for (const id of ids) this.reread.delete(id);
      await Promise.all(ids.map(async (id) => {
        try {
          const o = await this.api.get(`/v1/orders/${encodeURIComponent(id)}`);
          const row = this.putOrder(o);
          row._notional = null;
        } catch {
          /* gone or foreign: nothing to show */
        }
      }));
      this.emit("orders");
      if (this.reread.size) this.scheduleReread([...this.reread][0]);
    }, 100);
  }

  schedulePositions() {
    if (this.positionsTimer) return;
    this.positionsTimer = setTimeout(async () => {
      this.positionsTimer = null;
      try {
        this.positions = (await this.api.get("/v1/positions")).items;
        this.emit("positions");
      } catch {
        /* next fill retries */
      }
    }, 300);
  }

  // called after the blotter painted: event time -> on screen
  painted() {
    if (!this.pendingLatency.length) return;
    const now = Date.now();
    for (const t of this.pendingLatency) this.latencies.push(now - t);
    this.pendingLatency = [];
    if (this.latencies.length > 5000) this.latencies.splice(0, this.latencies.length - 5000);
  }

  latencyStats() {
    const s = [...this.latencies].sort((a, b) => a - b);
    return {
      n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99),
      max: s.length ? s[s.length - 1] : null, events: this.eventsApplied,
    };
  }
}
