// Human in the loop as Studio and agent-chat-ui drive it: a run streamed with `interruptBefore` pauses
// before the actions agent, the thread reads `interrupted` with its interrupt; a bad decision is refused;
// `command: {resume}` continues the thread. Signed in as Studio signs in: the token as `apiKey` (x-api-key).
import { ASK, collect, keyClient, main, statusOf } from "./netra.mjs";

const PAUSE = ["actions_to_meet_goals"];

async function view(netra, threadId) {
  const thread = await netra.threads.get(threadId);
  const found = (await netra.threads.search({ status: "interrupted", limit: 100 })).map((t) => t.thread_id);
  return { status: thread.status, interrupts: thread.interrupts, interruptedFound: found.includes(threadId) };
}

function lastValues(parts) {
  return parts.filter((part) => part.event === "values").slice(-1)[0]?.data ?? {};
}

main(async () => {
  const netra = keyClient();
  const thread = await netra.threads.create();
  const paused = await collect(netra.runs.stream(thread.thread_id, "netra", { input: ASK, streamMode: ["values"], interruptBefore: PAUSE }));
  const interrupt = lastValues(paused).__interrupt__?.[0]?.value ?? {};
  const offered = (interrupt.recommendations ?? []).map((rec) => rec.policy_id);
  const state = await netra.threads.getState(thread.thread_id);
  const pausedThread = await view(netra, thread.thread_id);
  const unknown = await statusOf(netra.runs.create(thread.thread_id, "netra", { command: { resume: { drop: ["no-such-policy"] } } }));
  const resumed = await collect(netra.runs.stream(thread.thread_id, "netra", { command: { resume: { drop: offered.slice(0, 1) } }, streamMode: ["values"] }));
  const final = lastValues(resumed);
  return {
    paused: paused.map((part) => part.event), pausedEnd: paused.slice(-1)[0]?.data, offered,
    next: state.next, tasks: state.tasks.map((task) => ({ id: task.id, interrupts: task.interrupts })),
    pausedThread, resumedThread: await view(netra, thread.thread_id), unknown, resumed: resumed.map((part) => part.event), resumedEnd: resumed.slice(-1)[0]?.data,
    actions: (final.actions ?? []).map((action) => action.policy_id), report: final.report?.markdown ?? "",
    again: await statusOf(netra.runs.create(thread.thread_id, "netra", { command: { resume: true } })),
    runs: (await netra.runs.list(thread.thread_id)).map((run) => run.status),
  };
});
