// The model-usage panel: tokens and cost of the newest run of the open thread, per agent and in total,
// read from GET /api/runs/{id} (`usage`: null for a run that made no model call).
// A finished run without usage answered offline: the panel says "No model calls", never "$0". A run that
// ended otherwise without a report (failed, cancelled, waiting for approval) shows no panel: its calls
// were not accounted. An agent whose calls carried no tokens (all from the LLM cache, not sent, or
// failed before an answer) shows "no tokens" as its cost, not a measured $0.
// It follows the page without being wired into it: when the conversation changes and no run is live
// (sessionStorage "netra.live" is gone), it reads the open thread's newest run again.

import { request } from "./api.js";
import { $, clear, el, show } from "./dom.js";

const LIVE_KEY = "netra.live";
const WAIT_MS = 300;
const OFFLINE = "No model calls: this run answered offline, without a model.";

const money = (cost) => (cost === null || cost === undefined ? "not priced" : `$${cost.toFixed(4)}`);
const tokens = (n) => Number(n || 0).toLocaleString("en-US");
// a measured cost only for calls that carried tokens: none sent, all from the cache, or failed before an answer
const costOf = (t) => (t.sent && t.input_tokens + t.output_tokens > 0 ? money(t.cost_usd) : "no tokens");
const COLUMNS = ["agent", "input", "output", "cost"];
const plural = (n, one) => `${n} ${one}${n === 1 ? "" : "s"}`;

// a figure with, when there is one, its part on a second line ("1,024 cached")
function part(text) {
  return text ? el("span", { class: "usage-part" }, text) : null;
}

// the agent's name, with its calls (and those the LLM cache answered) under it
function name(agent, totals) {
  const cached = totals.cache_hits ? `, ${totals.cache_hits} from cache` : "";
  return el("th", { scope: "row" }, agent, part(plural(totals.calls, "call") + cached));
}

function row(agent, totals) {
  const cached = totals.cached_input_tokens ? `${tokens(totals.cached_input_tokens)} cached` : "";
  return el("tr", { "data-agent": agent }, name(agent, totals),
    el("td", {}, tokens(totals.input_tokens), part(cached)), el("td", {}, tokens(totals.output_tokens)),
    el("td", {}, costOf(totals)));
}

function table(usage) {
  const head = el("tr", {}, ...COLUMNS.map((h) => el("th", { scope: "col" }, h)));
  const rows = Object.entries(usage.agents).map(([agent, totals]) => row(agent, totals));
  const foot = el("tfoot", {}, row("total", usage.total));
  return el("table", { class: "usage-table" }, el("thead", {}, head), el("tbody", {}, ...rows), foot);
}

function openThread() {
  const current = document.querySelector("#thread-list .thread.current");
  return current ? current.getAttribute("data-thread-id") : null;
}

async function newestRun(threadId) {
  const runs = await request(`/api/threads/${encodeURIComponent(threadId)}/runs?limit=1`);
  if (!runs.items.length) return null;
  return request(`/api/runs/${encodeURIComponent(runs.items[0].id)}`);
}

// what the panel shows of a run: its usage, "no model calls" (a finished offline run), or nothing
function contents(run) {
  if (run && run.usage) {
    const model = el("p", { class: "hint" }, `model ${run.usage.model}`);
    return [el("div", { class: "table-wrap" }, table(run.usage)), model];
  }
  return run && run.status === "success" ? [el("p", { class: "usage-none muted" }, OFFLINE)] : [];
}

function render(panel, run) {
  const shown = contents(run);
  show(panel, shown.length > 0);
  clear($("usage-body")).append(...shown);
}

async function refresh(panel) {
  const threadId = openThread();
  if (!threadId || sessionStorage.getItem(LIVE_KEY)) return render(panel, null);
  // signed out, or the thread is gone: nothing to show
  const run = await newestRun(threadId).catch(() => null);
  render(panel, run);
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
