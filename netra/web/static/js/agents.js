// The live agent panel: each agent of the plan with its state (waiting, running, done, failed,
// cancelled) and duration, from `sub_agent_update`; tool calls under the agent that made them,
// each a <details> holding its arguments and, once answered, its figures.

import { $, announce, clear, el, formatMs, formatNumber, show } from "./dom.js";

const LIVE_STATES = { running: "running", retrying: "running", done: "done", failed: "failed" };
const RECORD_STATES = { pending: "waiting", running: "running", success: "done", error: "failed",
  cancelled: "cancelled", interrupted: "failed" };
const UNFINISHED = new Set(["waiting", "running"]);
const RUN_LEVEL = "run";

export class AgentPanel {
  constructor() {
    this.rows = new Map();
  }

  reset() {
    clear($("agent-list"));
    this.rows.clear();
    show($("agents-empty"), true);
  }

  row(agent) {
    return this.rows.get(agent) || this.addRow(agent);
  }

  addRow(agent) {
    const row = agentRow(agent);
    this.rows.set(agent, row);
    $("agent-list").append(row);
    show($("agents-empty"), false);
    return row;
  }

  // Triage's plan: a row per planned agent, in plan order (those not started yet are waiting).
  plan(agents) {
    for (const agent of agents) $("agent-list").append(this.row(agent));
  }

  // Show an agent's state (and duration); announced politely unless `quiet` (a run read from the records).
  setState(agent, state, durationMs, quiet = false) {
    const row = this.row(agent);
    row.dataset.state = state;
    row.querySelector(".agent-state").textContent = state;
    if (durationMs !== undefined && durationMs !== null) row.querySelector(".agent-time").textContent = formatMs(durationMs);
    if (!quiet) announce(`${agent}: ${state}${durationMs ? ` in ${formatMs(durationMs)}` : ""}`);
  }

  // sub_agent_update {agent, status, duration_ms}; the supervisor routes between agents and is not listed.
  update(data) {
    if (data.agent === "supervisor") return;
    this.setState(data.agent, LIVE_STATES[data.status] || data.status, data.duration_ms);
  }

  toolCall(agent, data) {
    this.row(agent || RUN_LEVEL).querySelector(".tools").append(toolItem(data));
  }

  toolResult(agent, data) {
    const selector = `.tool[data-call-id="${CSS.escape(data.call_id || "")}"]:not(.answered)`;
    const item = $("agent-list").querySelector(selector) || this.row(agent || RUN_LEVEL).querySelector(".tools")
      .appendChild(toolItem(data));
    answer(item, data);
  }

  // A run read from the records (GET /api/runs/{id}): its agent runs, oldest first.
  fromRecords(agents) {
    this.reset();
    for (const agent of [...agents].reverse()) {
      this.setState(agent.agent, RECORD_STATES[agent.status] || agent.status, agent.duration_ms, true);
    }
  }

  finishUnfinished(state) {
    for (const [agent, row] of this.rows) if (UNFINISHED.has(row.dataset.state)) this.setState(agent, state);
  }
}

function agentRow(agent) {
  return el("li", { class: "agent", "data-agent": agent, "data-state": "waiting" },
    el("div", { class: "agent-head" }, el("span", { class: "agent-name" }, agent),
      el("span", { class: "agent-state" }, "waiting"), el("span", { class: "agent-time" })),
    el("ul", { class: "tools", "aria-label": `Tool calls of ${agent}` }));
}

function toolItem(data) {
  return el("li", { class: "tool", "data-call-id": data.call_id || "" },
    el("details", {}, el("summary", {}, el("span", { class: "tool-name" }, data.tool),
      el("span", { class: "tool-status" }, "running")),
    el("p", { class: "tool-label" }, "Arguments"),
    el("pre", { class: "tool-args" }, JSON.stringify(data.args || {}, null, 2)),
    el("div", { class: "tool-figures" })));
}

function answer(item, data) {
  item.classList.add("answered");
  item.querySelector(".tool-status").textContent = data.cached ? "cached" : "done";
  item.querySelector(".tool-figures").replaceChildren(el("p", { class: "tool-label" }, "Figures"),
    figureList(data.figures || {}));
}

function figureList(figures) {
  const pairs = Object.entries(figures).map(([name, value]) => [el("dt", {}, name), el("dd", {}, formatNumber(value))]);
  return pairs.length ? el("dl", {}, pairs) : el("p", { class: "muted" }, "no figures");
}
