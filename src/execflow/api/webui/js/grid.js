// A virtualised table: only the rows in view (plus a margin) exist in the DOM, so tens of
// thousands of rows scroll, sort and filter without a framework. Sorting and filtering run
// over the whole data set, at most every `recomputeMs` while data keeps changing.

function cellText(col, row) {
  const v = col.get ? col.get(row) : row[col.key];
  return v == null ? "" : String(v);
}

function sortValue(col, row) {
  const v = col.get ? col.get(row) : row[col.key];
  if (v == null || v === "") return null;
  if (col.num) {
    const f = Number(v);
    return Number.isNaN(f) ? null : f;
  }
  return String(v);
}

export class Grid {
  constructor(el, { columns, rowKey, rowHeight = 24, actions, onRowClick, recomputeMs = 200 }) {
    this.el = el;
    this.columns = columns;
    this.rowKey = rowKey;
    this.rh = rowHeight;
    this.actions = actions;
    this.onRowClick = onRowClick;
    this.recomputeMs = recomputeMs;
    this.data = [];
    this.view = [];
    this.filterText = "";
    this.sort = { key: null, dir: 1 };
    this.dirty = true;
    this.scheduled = false;
    this.lastRecompute = 0;
    this.selected = null;
    this.pool = [];
    this.onChange = null;
    el.classList.add("grid");
    el.innerHTML = "";
    this.head = document.createElement("div");
    this.head.className = "grid-head";
    this.body = document.createElement("div");
    this.body.className = "grid-body";
    this.spacer = document.createElement("div");
    this.spacer.className = "grid-spacer";
    this.body.appendChild(this.spacer);
    el.append(this.head, this.body);
    this.width = columns.reduce((w, c) => w + (c.width || 100), 0) + (actions ? 150 : 0);
    for (const c of columns) {
      const h = document.createElement("div");
      h.className = `cell${c.num ? " num" : ""}`;
      h.style.width = `${c.width || 100}px`;
      h.textContent = c.title;
      h.dataset.key = c.key;
      h.title = "sort";
      h.onclick = () => this.sortBy(c.key);
      this.head.appendChild(h);
    }
    if (actions) {
      const h = document.createElement("div");
      h.className = "cell";
      h.style.width = "150px";
      h.textContent = "";
      this.head.appendChild(h);
    }
    this.head.style.minWidth = this.spacer.style.minWidth = `${this.width}px`;
    this.body.addEventListener("scroll", () => {
      this.head.scrollLeft = this.body.scrollLeft;
      this.paint();
    });
    new ResizeObserver(() => this.paint()).observe(this.body);
  }

  setData(rows) {
    this.data = rows;
    this.invalidate();
  }

  setFilter(text) {
    this.filterText = text.trim().toLowerCase();
    this.invalidate(true);
  }

  sortBy(key) {
    this.sort = this.sort.key === key ? { key, dir: -this.sort.dir } : { key, dir: 1 };
    for (const h of this.head.children) h.classList.toggle("sorted", h.dataset.key === key);
    this.invalidate(true);
  }

  // data changed: recompute soon (at once when `now`)
  invalidate(now = false) {
    this.dirty = true;
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = now ? 0 : Math.max(0, this.recomputeMs - (performance.now() - this.lastRecompute));
    setTimeout(() => requestAnimationFrame(() => {
      this.scheduled = false;
      this.recompute();
    }), wait);
  }

  // "word" matches any column; "col:value" matches one column (prefix of its text)
  matcher() {
    const terms = this.filterText.split(/\s+/).filter(Boolean);
    if (!terms.length) return null;
    const byKey = new Map(this.columns.map((c) => [c.key.toLowerCase(), c]));
    const preds = terms.map((t) => {
      const i = t.indexOf(":");
      const col = i > 0 ? byKey.get(t.slice(0, i)) : null;
      if (col) {
        const v = t.slice(i + 1);
        return (row) => cellText(col, row).toLowerCase().startsWith(v);
      }
      return (row) => this.columns.some((c) => cellText(c, row).toLowerCase().includes(t));
    });
    return (row) => preds.every((p) => p(row));
  }

  recompute() {
    this.lastRecompute = performance.now();
    if (!this.dirty) return;
    this.dirty = false;
    const m = this.matcher();
    let rows = m ? this.data.filter(m) : this.data.slice();
    const col = this.columns.find((c) => c.key === this.sort.key);
    if (col) {
      const dir = this.sort.dir;
      const keyed = rows.map((r) => [sortValue(col, r), r]);
      keyed.sort((a, b) => {
        if (a[0] === b[0]) return 0;
        if (a[0] === null) return 1;
        if (b[0] === null) return -1;
        return (a[0] < b[0] ? -1 : 1) * dir;
      });
      rows = keyed.map((k) => k[1]);
    }
    this.view = rows;
    this.spacer.style.height = `${rows.length * this.rh}px`;
    this.paint();
    if (this.onChange) this.onChange(this.view.length, this.data.length);
  }

  // repaint rows in view: a pool of row elements, reused as the view scrolls
  paint() {
    const top = this.body.scrollTop;
    const h = this.body.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / this.rh) - 5);
    const last = Math.min(this.view.length, Math.ceil((top + h) / this.rh) + 5);
    const need = last - first;
    while (this.pool.length < need) {
      const r = document.createElement("div");
      r.className = "grid-row";
      r.style.width = `${this.width}px`;
      r.addEventListener("click", (ev) => {
        if (ev.target.closest("button")) return;
        const row = r._row;
        this.selected = row ? this.rowKey(row) : null;
        if (row && this.onRowClick) this.onRowClick(row);
        this.paint();
      });
      this.spacer.appendChild(r);
      this.pool.push(r);
    }
    for (let i = 0; i < this.pool.length; i++) {
      const r = this.pool[i];
      const idx = first + i;
      if (idx >= last) {
        r.style.display = "none";
        r._row = null;
        continue;
      }
      const row = this.view[idx];
      r.style.display = "";
      r.style.top = `${idx * this.rh}px`;
      r._row = row;
      const key = this.rowKey(row);
      r.dataset.id = key;
      r.classList.toggle("selected", key === this.selected);
      const cells = this.columns.map((c) => {
        const d = document.createElement("div");
        d.className = `cell${c.num ? " num" : ""}`;
        d.style.width = `${c.width || 100}px`;
        const text = cellText(c, row);
        d.textContent = text;
        d.dataset.col = c.key;
        if (c.cls) {
          const cls = c.cls(row);
          if (cls) d.classList.add(cls);
        }
        return d;
      });
      if (this.actions) {
        const d = document.createElement("div");
        d.className = "cell";
        d.style.width = "150px";
        for (const b of this.actions(row)) d.appendChild(b);
        cells.push(d);
      }
      r.replaceChildren(...cells);
    }
  }
}
