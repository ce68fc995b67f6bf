// The dashboard shell: log in with an API key, load the blotter, route between views.

import { Api, ApiError } from "./api.js";
import { Store } from "./store.js";
import * as blotter from "./views/blotter.js";
import * as ticket from "./views/ticket.js";
import * as flow from "./views/flow.js";
import * as risk from "./views/risk.js";
import * as settlement from "./views/settlement.js";
import * as performance from "./views/performance.js";

const VIEWS = { blotter, ticket, flow, risk, settlement, performance };
const KEY = "execflow.key";
const $ = (id) => document.getElementById(id);

let ctx = null;
let unmount = () => {};

function setConn(state) {
  const c = $("conn");
  c.textContent = state;
  c.classList.toggle("live", state === "live");
  if (state === "unauthorised") logout("the server refused the key");
}

function route() {
  if (!ctx) return;
  const [name, ...params] = (location.hash.replace(/^#\/?/, "") || "blotter").split("/");
  const view = VIEWS[name] || blotter;
  unmount();
  const el = $("view");
  el.replaceChildren();
  el.dataset.view = name;
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.view === name);
  unmount = view.mount(el, { ...ctx, params: params.map(decodeURIComponent) }) || (() => {});
}

async function login(key) {
  const api = new Api(key);
  const session = await api.get("/v1/session");
  const instruments = (await api.get("/v1/instruments")).items;
  const store = new Store(api);
  ctx = { api, session, instruments, store, navigate: (h) => { location.hash = h; } };
  window.__execflow = ctx; // for the browser tests and the console
  sessionStorage.setItem(KEY, key);
  $("login").hidden = true;
  $("nav").hidden = false;
  $("logout").hidden = false;
  $("view").hidden = false;
  $("who").textContent = `${session.key_id} · ${session.all_accounts ? "all accounts" : session.accounts.join(", ")}`
    + `${session.admin ? " · admin" : ""}`;
  for (const a of document.querySelectorAll('#nav a[data-view="risk"]')) a.hidden = false;
  route();
  await store.load(setConn);
  document.body.dataset.ready = "1";
}

function logout(reason) {
  if (ctx) ctx.store.close();
  ctx = null;
  unmount();
  unmount = () => {};
  sessionStorage.removeItem(KEY);
  delete document.body.dataset.ready;
  $("view").hidden = true;
  $("nav").hidden = true;
  $("logout").hidden = true;
  $("who").textContent = "";
  $("login").hidden = false;
  $("login-error").textContent = reason || "";
  setConn("offline");
}

window.addEventListener("hashchange", route);
$("logout").addEventListener("click", () => logout());
$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("login-error").textContent = "";
  try {
    await login($("login-key").value.trim());
  } catch (e) {
    logout(e instanceof ApiError ? e.describe() : String(e));
  }
});

const saved = sessionStorage.getItem(KEY);
if (saved) {
  login(saved).catch((e) => logout(e instanceof ApiError ? e.describe() : String(e)));
} else {
  logout();
}
