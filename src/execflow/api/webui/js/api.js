// REST and WebSocket access with one API key. Errors are the API's problem details
// (RFC 9457): the dashboard shows their `detail`, `code` and per-field `errors` as they come.

export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem && typeof problem === "object" ? problem : { detail: String(problem || "") };
    super(p.detail || p.title || `HTTP ${status}`);
    this.status = status;
    this.problem = p;
    this.code = p.code || `HTTP_${status}`;
  }
  // one line per message: "CODE: detail" then each field error "location: message"
  describe() {
    const lines = [`${this.code}: ${this.message}`];
    for (const e of this.problem.errors || []) {
      const line = e.location ? `${e.location}: ${e.message}` : e.message;
      if (!lines[0].endsWith(line)) lines.push(line);
    }
    return lines.join("\n");
  }
}

export class Api {
  constructor(key) {
    this.key = key;
  }

  async request(method, path, body, headers = {}) {
    const h = { "X-API-Key": this.key, Accept: "application/json", ...headers };
    if (body !== undefined) h["Content-Type"] = "application/json";
    const r = await fetch(path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
    const text = await r.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    if (!r.ok) throw new ApiError(r.status, data);
    return data;
  }

  get(path) { return this.request("GET", path); }
  post(path, body, headers) { return this.request("POST", path, body ?? {}, headers); }
  patch(path, body) { return this.request("PATCH", path, body); }
  del(path) { return this.request("DELETE", path); }

  // every order the key sees, following next_cursor (oldest first)
  async allOrders(onPage, max = 200000) {
    let cursor = null;
    let n = 0;
    for (;;) {
      const q = new URLSearchParams({ status: "all", limit: "1000", order: "asc" });
      if (cursor) q.set("cursor", cursor);
      const page = await this.get(`/v1/orders?${q}`);
      onPage(page.items);
      n += page.items.length;
      cursor = page.next_cursor;
      if (!cursor || !page.items.length || n >= max) return n;
    }
  }

  // every fill the key sees, following next_after
  async allExecutions(onPage, max = 500000) {
    let after = 0;
    let n = 0;
    for (;;) {
      const page = await this.get(`/v1/executions?after=${after}&limit=1000`);
      onPage(page.items);
      n += page.items.length;
      if (!page.items.length || page.next_after == null || n >= max) return n;
      after = page.next_after;
    }
  }
}

// The WebSocket stream (/v1/stream) with reconnect: resumes after the last sequence seen, so
// nothing is missed or repeated. Browsers cannot set headers: the key travels in the
// `execflow.bearer.<key>` subprotocol (docs/api.md).
export class Stream {
  constructor(key, { after, params = {}, onEvents, onState }) {
    this.key = key;
    this.after = after;
    this.params = params;
    this.onEvents = onEvents;
    this.onState = onState || (() => {});
    this.closed = false;
    this.ws = null;
    this.retry = 500;
    this.head = null;
  }

  url() {
    const q = new URLSearchParams({ heartbeat: "5", ...this.params });
    if (this.after != null) q.set("after", String(this.after));
    const proto = location.protocol === "https:" ? "wss" : "ws";
    return `${proto}://${location.host}/v1/stream?${q}`;
  }

  open() {
    if (this.closed) return;
    const ws = new WebSocket(this.url(), ["execflow.v1", `execflow.bearer.${this.key}`]);
    this.ws = ws;
    this.onState("connecting");
    ws.onmessage = (m) => {
      const f = JSON.parse(m.data);
      if (f.op === "events") {
        if (f.events.length) this.after = f.events[f.events.length - 1].seq;
        this.onEvents(f.events);
      } else if (f.op === "subscribed") {
        this.retry = 500;
        this.head = f.head;
        if (this.after == null) this.after = f.after;
        this.onState("live", f);
      } else if (f.op === "heartbeat") {
        this.head = f.head;
        this.onState("live", f);
      }
    };
    ws.onclose = (ev) => {
      if (this.closed) return;
      if (ev.code === 4401 || ev.code === 4403) {
        this.onState("unauthorised", ev);
        return;
      }
      this.onState("reconnecting", ev);
      setTimeout(() => this.open(), this.retry);
      this.retry = Math.min(this.retry * 2, 8000);
    };
  }

  close() {
    this.closed = true;
    if (this.ws) this.ws.close(1000);
  }
}
