// Exact decimals for the blotter's own arithmetic (filled and leaves quantities, average
// prices): BigInt with a scale, never binary floating point. Floats are used only to draw.

export function parse(s) {
  if (s == null || s === "") return null;
  const str = String(s);
  const neg = str.startsWith("-");
  const body = neg ? str.slice(1) : str;
  const [i, f = ""] = body.split(".");
  const n = BigInt((i || "0") + f);
  return { n: neg ? -n : n, s: f.length };
}

function align(a, b) {
  const s = Math.max(a.s, b.s);
  return [a.n * 10n ** BigInt(s - a.s), b.n * 10n ** BigInt(s - b.s), s];
}

export function format(d) {
  if (d == null) return null;
  const neg = d.n < 0n;
  let digits = (neg ? -d.n : d.n).toString();
  if (d.s > 0) {
    digits = digits.padStart(d.s + 1, "0");
    digits = `${digits.slice(0, -d.s)}.${digits.slice(-d.s)}`;
  }
  return (neg ? "-" : "") + digits;
}

export function add(a, b) {
  const [x, y, s] = align(a, b);
  return { n: x + y, s };
}

export function sub(a, b) {
  const [x, y, s] = align(a, b);
  return { n: x - y, s };
}

export function mul(a, b) {
  return { n: a.n * b.n, s: a.s + b.s };
}

export function cmp(a, b) {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

// a / b rounded half away from zero to `scale` decimals
export function div(a, b, scale) {
  const num = a.n * 10n ** BigInt(scale + b.s);
  const den = b.n * 10n ** BigInt(a.s);
  let q = num / den;
  const r = num % den;
  if (2n * (r < 0n ? -r : r) >= (den < 0n ? -den : den)) q += (num < 0n) !== (den < 0n) ? -1n : 1n;
  return { n: q, s: scale };
}

// drop trailing zeros beyond `min` decimals
export function trim(d, min = 0) {
  let { n, s } = d;
  while (s > min && n % 10n === 0n) {
    n /= 10n;
    s -= 1;
  }
  return { n, s };
}

export const addStr = (a, b) => format(add(parse(a) ?? { n: 0n, s: 0 }, parse(b) ?? { n: 0n, s: 0 }));
export const subStr = (a, b) => format(sub(parse(a) ?? { n: 0n, s: 0 }, parse(b) ?? { n: 0n, s: 0 }));
