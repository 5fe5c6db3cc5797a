// The thread's conversation: questions, the outcome of each run (its report, the approval it waits
// for, or why it has none), the live slot of a run in progress (thinking indicator, then the report,
// the approval card or the error), notices.

import { request } from "./api.js";
import { approvalCard, pausedPayload } from "./approval.js";
import { $, clear, el, scrollIntoView } from "./dom.js";
import { forgetChart, reportCard } from "./report.js";

const LIMIT = 500;
const LIVE = new Set(["pending", "running"]);
const ENDED = {
  cancelled: () => "The run was cancelled.",
  error: (run) => `The run failed: ${run.error || "unknown error"}`,
  interrupted: (run) => (run.error ? `The run was interrupted: ${run.error}` : "The run paused for approval."),
};

export class Conversation {
  constructor(app) {
    this.app = app;
    this.slot = null;
  }

  clear() {
    clear($("messages"));
    this.slot = null;
    this.loading = null;
    this.app.agents.reset();
  }

  async load(thread) {
    this.clear();
    this.loading = thread;
    $("thread-title").textContent = thread ? thread.title || "Untitled" : "New conversation";
    if (!thread) return $("messages").append(this.app.composer.examples());
    const [messages, runs] = await fetchThread(thread.id).catch(goneAsEmpty);
    if (this.loading === thread) this.render(messages.items.reverse(), runs.items.reverse(), thread);
  }

  // Questions in order, each followed by the run that answered it; agents' messages are the reports.
  render(messages, runs, thread) {
    const waiting = [...runs];
    this.lastRun = runs[runs.length - 1];
    for (const message of messages.filter((m) => m.role === "user")) this.turn(message.content, take(waiting, message.content), thread);
    for (const run of waiting) this.turn(run.question, run, thread);
    if (!messages.length && !runs.length) $("messages").append(this.app.composer.examples());
    if (runs.length && !LIVE.has(runs[runs.length - 1].status)) this.showAgents(runs[runs.length - 1]);
  }

  turn(question, run, thread) {
    this.bubble(question);
    if (!run) return;
    if (LIVE.has(run.status)) return this.follow(run, thread);
    if (run.status === "success") return this.place(this.reportOf(run));
    if (run.status === "interrupted" && !run.error && run === this.lastRun) return this.place(this.pausedOf(thread));
    this.notice(ENDED[run.status] ? ENDED[run.status](run) : `The run ended: ${run.status}`);
  }

  bubble(text) {
    $("messages").append(el("article", { class: "msg user", "aria-label": "Your question" }, el("p", {}, text)));
  }

  notice(text, alert = false) {
    const note = el("p", { class: "notice", role: alert ? "alert" : false }, text);
    $("messages").append(note);
    scrollIntoView(note);
  }

  // A placeholder now, replaced by the card when it is ready (or by the error).
  place(promise) {
    const holder = el("div", { class: "placeholder" }, el("p", { class: "muted" }, "Loading the report…"));
    $("messages").append(holder);
    promise.then((node) => holder.replaceWith(node), (error) => holder.replaceWith(errorNote(error.message)));
  }

  async reportOf(run) {
    const report = await request(`/api/runs/${run.id}/report`);
    return reportCard(report.id, report.structured, report.grounded);
  }

  // The approval the thread's newest run waits for (a notice once a decision continued it).
  async pausedOf(thread) {
    const payload = await pausedPayload(thread.id);
    if (!payload) return el("p", { class: "notice" }, ENDED.interrupted({}));
    return approvalCard(payload, (decision) => this.app.live.decide(thread.id, decision));
  }

  // The live run paused for approval: the card replaces the thinking indicator.
  paused(payload, threadId) {
    const slot = this.slot || $("messages").appendChild(el("div", { class: "live-slot" }));
    this.slot = null;
    slot.replaceChildren(approvalCard(payload, (decision) => this.app.live.decide(threadId, decision)));
    scrollIntoView(slot);
  }

  // The newest run's agents as recorded (unless a run went live meanwhile).
  async showAgents(run) {
    const detail = await request(`/api/runs/${run.id}`);
    if (!this.app.live.busy()) this.app.agents.fromRecords(detail.agents);
  }

  follow(run, thread) {
    this.openSlot();
    this.app.agents.reset();
    this.app.live.attach(run.id, thread.id);
  }

  // A question just asked: its bubble, then the live slot with the thinking indicator.
  startLive(question) {
    const examples = $("messages").querySelector(".examples");
    if (examples) examples.remove();
    this.bubble(question);
    this.openSlot();
    this.app.agents.reset();
  }

  openSlot() {
    this.slot = el("div", { class: "live-slot" });
    $("messages").append(this.slot);
    this.thinking("Starting…");
  }

  thinking(text) {
    if (!this.slot) return;
    this.slot.replaceChildren(el("p", { class: "thinking", role: "status" }, el("span", { class: "dots", "aria-hidden": "true" }), text));
    scrollIntoView(this.slot);
  }

  finishLive(report) {
    const slot = this.slot || $("messages").appendChild(el("div", { class: "live-slot" }));
    this.slot = null;
    forgetChart();
    reportCard(report.report_id, report.structured, report.grounded)
      .then((card) => slot.replaceChildren(card), (error) => slot.replaceChildren(errorNote(error.message)));
  }

  failLive(code, message) {
    const text = code === "cancelled" ? "The run was cancelled." : `The run failed (${code}): ${message}`;
    const note = errorNote(text);
    if (this.slot) this.slot.replaceChildren(note);
    else $("messages").append(note);
    this.slot = null;
  }
}

function fetchThread(id) {
  const base = `/api/threads/${id}`;
  return Promise.all([request(`${base}/messages?limit=${LIMIT}`), request(`${base}/runs?limit=${LIMIT}`)]);
}

// A thread deleted elsewhere while it opens reads as empty: the next question there says it is gone.
function goneAsEmpty(error) {
  if (error.code !== "not_found") throw error;
  return [{ items: [] }, { items: [] }];
}

function take(runs, question) {
  const index = runs.findIndex((run) => run.question.trim() === question.trim());
  return index < 0 ? null : runs.splice(index, 1)[0];
}

function errorNote(text) {
  return el("p", { class: "notice error", role: "alert" }, text);
}
