// SVG charts drawn by hand (no chart library to ship): a histogram and a time series with
// points. Numbers become floats only here, to place pixels.

const NS = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text != null) el.textContent = text;
  return el;
}

function fmt(v) {
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function histogram(values, { bins = 30, width = 480, height = 200, label = "", id } = {}) {
  const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  if (id) svg.id = id;
  svg.append(s("text", { x: 4, y: 12 }, `${label} (n=${values.length})`));
  if (!values.length) return svg;
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) { lo -= 1; hi += 1; }
  const w = (hi - lo) / bins;
  const counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / w))] += 1;
  const max = Math.max(...counts);
  const pl = 30, pb = 20, pt = 18;
  const bw = (width - pl - 4) / bins;
  counts.forEach((c, i) => {
    const bh = ((height - pb - pt) * c) / max;
    svg.append(s("rect", { x: pl + i * bw, y: height - pb - bh, width: Math.max(1, bw - 1), height: bh,
      fill: "#4ea1ff" }));
  });
  svg.append(s("text", { x: pl, y: height - 5 }, fmt(lo)));
  svg.append(s("text", { x: width - 40, y: height - 5 }, fmt(hi)));
  svg.append(s("text", { x: 2, y: pt + 8 }, String(max)));
  return svg;
}

// series: [{points: [[t, y], ...], color, line: bool}]
export function timeSeries(series, { width = 900, height = 240, label = "", id } = {}) {
  const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  if (id) svg.id = id;
  svg.append(s("text", { x: 4, y: 12 }, label));
  const all = series.flatMap((x) => x.points);
  if (!all.length) return svg;
  const t0 = Math.min(...all.map((p) => p[0]));
  const t1 = Math.max(...all.map((p) => p[0])) || t0 + 1;
  let y0 = Math.min(...all.map((p) => p[1]));
  let y1 = Math.max(...all.map((p) => p[1]));
  if (y0 === y1) { y0 -= 1; y1 += 1; }
  const pl = 50, pr = 8, pt = 18, pb = 20;
  const X = (t) => pl + ((t - t0) / (t1 - t0 || 1)) * (width - pl - pr);
  const Y = (y) => height - pb - ((y - y0) / (y1 - y0)) * (height - pb - pt);
  for (const ser of series) {
    if (ser.line && ser.points.length > 1) {
      svg.append(s("polyline", { fill: "none", stroke: ser.color, "stroke-width": 1, opacity: 0.7,
        points: ser.points.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(" ") }));
    } else {
      for (const p of ser.points) svg.append(s("circle", { cx: X(p[0]), cy: Y(p[1]), r: 2.5, fill: ser.color }));
    }
  }
  svg.append(s("text", { x: 2, y: pt + 8 }, fmt(y1)));
  svg.append(s("text", { x: 2, y: height - pb }, fmt(y0)));
  svg.append(s("text", { x: pl, y: height - 5 }, new Date(t0).toISOString().slice(11, 19)));
  svg.append(s("text", { x: width - 60, y: height - 5 }, new Date(t1).toISOString().slice(11, 19)));
  return svg;
}
