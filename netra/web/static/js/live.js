// The live run: start it (a question, or a decision continuing a run paused for approval), follow
// its events by seq, stop it, and re-attach after a dropped socket or a page reload. The run id, the last seq seen and the events so far are kept in sessionStorage
// ("netra.live"), so a reloaded page replays what it had and asks `resume` for the rest.

const LIVE_KEY = "netra.live";
import { decisionText } from "./approval.js";

const ASKING = new Set(["start_agent", "user_message", "decide"]);
const UNFOLLOWABLE = new Set(["resume", "follow"]);

// event type -> what it does to the page (`app` holds the agent panel and the conversation)
const HANDLERS = {
  agent_started: (app) => app.conversation.thinking("Netra is working on it…"),
  sub_agent_update: (app, data) => app.agents.update(data),
  tool_call: (app, data, meta) => app.agents.toolCall(meta.agent_name, data),
  tool_result: (app, data, meta) => app.agents.toolResult(meta.agent_name, data),
  agent_log: (app, data) => logged(app, data),
  agent_completed: (app, data) => app.conversation.finishLive(data.report),
  interrupted: (app, data, meta) => paused(app, data, meta),
  error: (app, data) => failed(app, data),
};

function logged(app, data) {
  if (data.event === "plan" && Array.isArray(data.plan)) app.agents.plan(data.plan);
  if (data.message) app.conversation.thinking(data.message);
}

// The run paused for approval: the agent it paused before waits; the conversation shows the choice.
function paused(app, data, meta) {
  app.agents.finishUnfinished("waiting");
  app.conversation.paused(data.interrupt, meta.thread_id);
}

function failed(app, data) {
  app.agents.finishUnfinished(data.code === "cancelled" ? "cancelled" : "failed");
  app.conversation.failLive(data.code, data.message);
}

export class LiveRun {
  constructor(app) {
    this.app = app;
    this.run = null;
    this.asking = false;
  }

  busy() {
    return this.asking || this.run !== null;
  }

  ask(question, threadId) {
    this.asking = true;
    this.question = question;
    this.app.composer.busy(true, false);
    this.app.socket.send("start_agent", { message: question, thread_id: threadId, approval: this.app.composer.approval() });
  }

  // Continue the thread's paused run with the user's decision: a new run, followed like a question.
  decide(threadId, decision) {
    this.asking = true;
    this.question = decisionText(decision);
    this.app.conversation.startLive(this.question);
    this.app.composer.busy(true, false);
    this.app.socket.send("decide", { thread_id: threadId, decision });
  }

  stop() {
    if (this.run) this.app.socket.send("stop_agent", { run_id: this.run.run_id });
  }

  // Follow a run that is pending or running: the stored one continues from its seq, another starts at 0.
  attach(runId, threadId) {
    const stored = this.stored();
    const run = stored && stored.run_id === runId ? stored : { run_id: runId, thread_id: threadId, seq: 0, events: [] };
    this.track(run);
    for (const message of run.events) this.apply(message);
    if (this.app.socket.isOpen()) this.resume();
  }

  // The socket is (re)connected: pick the run up after the last seq seen.
  ready() {
    if (this.run) this.resume();
  }

  resume() {
    this.app.socket.send("resume", { run_id: this.run.run_id, after_seq: this.run.seq });
  }

  receive(message) {
    const meta = message.metadata || {};
    if (message.type === "ack") return this.acked(message.data);
    if (meta.seq !== null && meta.seq !== undefined) return this.event(message, meta);
    if (message.type === "error") return this.refused(message.data);
  }

  acked(data) {
    if (ASKING.has(data.action) && this.asking) this.began(data);
    if (data.action === "stop_agent") this.app.composer.stopping();
  }

  began(data) {
    this.asking = false;
    this.track({ run_id: data.run_id, thread_id: data.thread_id, seq: 0, events: [] });
    this.app.threads.started(data.thread_id, this.question);
  }

  track(run) {
    this.run = run;
    this.save();
    this.app.composer.busy(true, true);
  }

  event(message, meta) {
    const run = this.run;
    if (!run || meta.run_id !== run.run_id || meta.seq <= run.seq) return;
    run.seq = meta.seq;
    this.apply(message);
    if (meta.final || (message.data && message.data.terminal)) return this.finish();
    this.remember(message);
  }

  remember(message) {
    this.run.events.push(message);
    this.save();
  }

  apply(message) {
    const handler = HANDLERS[message.type];
    if (handler) handler(this.app, message.data || {}, message.metadata || {});
  }

  finish() {
    this.detach();
    this.app.threads.load();
  }

  // A refused action: a question that could not start, a run that cannot be followed, anything else.
  refused(data) {
    if (ASKING.has(data.action) && this.asking) return this.notStarted(data);
    if (UNFOLLOWABLE.has(data.action) && this.run) return this.unfollowable();
    if (data.action === "stop_agent" && data.code === "run_ended") return;
    this.app.conversation.notice(`${data.code}: ${data.message}`, true);
  }

  notStarted(data) {
    this.asking = false;
    this.app.composer.busy(false);
    this.app.conversation.failLive(data.code, data.message);
  }

  // The run's event log is gone (it ended long ago): show the thread as the records have it.
  unfollowable() {
    this.detach();
    this.app.reopenThread();
  }

  // Another thread is opened: stop showing this run here (the page can attach to it again later).
  leave() {
    this.run = null;
    this.asking = false;
  }

  detach() {
    this.run = null;
    this.asking = false;
    sessionStorage.removeItem(LIVE_KEY);
    this.app.composer.busy(false);
  }

  stored() {
    try {
      return JSON.parse(sessionStorage.getItem(LIVE_KEY));
    } catch {
      return null;
    }
  }

  // A full sessionStorage keeps the older state: a reload then resumes from that older seq.
  save() {
    try {
      sessionStorage.setItem(LIVE_KEY, JSON.stringify(this.run));
    } catch {
      // ignored on purpose
    }
  }
}
