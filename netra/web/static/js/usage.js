// The model-usage panel: tokens and cost of the newest run of the open thread, per agent and in total,
// read from GET /api/runs/{id} (`usage`; null for a run that made no model call, then the panel hides).
// It follows the page without being wired into it: when the conversation changes and no run is live
// (sessionStorage "netra.live" is gone), it reads the open thread's newest run again.

import { request } from "./api.js";
import { $, clear, el, show } from "./dom.js";

const LIVE_KEY = "netra.live";
const WAIT_MS = 300;

const money = (cost) => (cost === null || cost === undefined ? "not priced" : `$${cost.toFixed(4)}`);
const tokens = (n) => Number(n || 0).toLocaleString("en-US");

function row(name, totals) {
  return el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, tokens(totals.input_tokens)),
    el("td", {}, tokens(totals.cached_input_tokens)), el("td", {}, tokens(totals.output_tokens)),
    el("td", {}, String(totals.cache_hits)), el("td", {}, money(totals.cost_usd)));
}

function table(usage) {
  const head = el("tr", {}, ...["agent", "input", "cached", "output", "cache hits", "cost"].map((h) => el("th", { scope: "col" }, h)));
  const rows = Object.entries(usage.agents).map(([agent, totals]) => row(agent, totals));
  return el("table", { class: "usage-table" }, el("thead", {}, head), el("tbody", {}, ...rows, row("total", usage.total)));
}

function openThread() {
  const current = document.querySelector("#thread-list .thread.current");
  return current ? current.getAttribute("data-thread-id") : null;
}

async function newestUsage(threadId) {
  const runs = await request(`/api/threads/${encodeURIComponent(threadId)}/runs?limit=1`);
  if (!runs.items.length) return null;
  return (await request(`/api/runs/${encodeURIComponent(runs.items[0].id)}`)).usage;
}

function render(panel, usage) {
  show(panel, Boolean(usage));
  if (!usage) return;
  clear($("usage-body")).append(table(usage), el("p", { class: "muted" }, `model ${usage.model}`));
}

async function refresh(panel) {
  const threadId = openThread();
  if (!threadId || sessionStorage.getItem(LIVE_KEY)) return render(panel, null);
  // signed out, or the thread is gone: nothing to show
  const usage = await newestUsage(threadId).catch(() => null);
  render(panel, usage);
}

function watch() {
  const panel = $("usage-panel");
  if (!panel) return;
  let timer = null;
  const later = () => { clearTimeout(timer); timer = setTimeout(() => refresh(panel), WAIT_MS); };
  new MutationObserver(later).observe($("messages"), { childList: true });
  new MutationObserver(later).observe($("thread-list"), { childList: true, subtree: true, attributes: true });
}

document.addEventListener("DOMContentLoaded", watch);
