// Runs as the clients drive them: streamed in every mode, in the background, joined, listed, cancelled.
import { ASK, QUESTION, client, collect, main, statusOf } from "./netra.mjs";

const MODES = ["values", "updates", "custom", "messages", "messages-tuple", "debug", "events"];

function summary(parts) {
  return parts.map((part) => ({ event: part.event, data: part.data }));
}

main(async () => {
  const netra = client();
  const thread = await netra.threads.create();
  const streamed = await collect(netra.runs.stream(thread.thread_id, "netra", { input: ASK, streamMode: MODES }));
  const runId = streamed[0].data.run_id;
  const rejoined = await collect(netra.runs.joinStream(thread.thread_id, runId, { streamMode: ["updates"] }));
  const first = await netra.runs.create(thread.thread_id, "agent", { input: { question: QUESTION } });
  const queued = await netra.runs.create(thread.thread_id, "agent", { input: { question: QUESTION } });
  const cancelled = await statusOf(netra.runs.cancel(thread.thread_id, queued.run_id));
  const joined = await netra.runs.join(thread.thread_id, first.run_id);
  return {
    events: streamed.map((part) => part.event), runId,
    last: summary(streamed.slice(-1))[0],
    values: streamed.filter((p) => p.event === "values").slice(-1)[0]?.data,
    updates: streamed.filter((p) => p.event === "updates").map((p) => Object.keys(p.data ?? {})).flat(),
    debug: [...new Set(streamed.filter((p) => p.event === "debug").map((p) => p.data.type))],
    messages: summary(streamed.filter((p) => p.event.startsWith("messages"))).map((p) => p.event),
    callbacks: streamed.filter((p) => p.event === "events").map((p) => [p.data.event, p.data.name]),
    joinedEvents: (await collect(netra.runs.joinStream(thread.thread_id, runId, { streamMode: ["events"] })))
      .filter((p) => p.event === "events").length,
    rejoined: rejoined.map((part) => part.event),
    first, queued, cancelled, joined,
    got: await netra.runs.get(thread.thread_id, runId),
    queuedAfter: await netra.runs.get(thread.thread_id, queued.run_id),
    list: (await netra.runs.list(thread.thread_id)).map((run) => [run.run_id, run.status]),
    endedCancel: await statusOf(netra.runs.cancel(thread.thread_id, runId)),
    badMode: await statusOf(netra.runs.create(thread.thread_id, "netra", { input: ASK, streamMode: ["tasks"] })),
    noKey: await statusOf(client("").threads.search()),
  };
});
