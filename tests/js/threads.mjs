// Threads as agent-chat-ui and Studio use them: create, get, search, update, copy, state, history, delete.
import { ASK, client, main, statusOf } from "./netra.mjs";

main(async () => {
  const netra = client();
  const thread = await netra.threads.create({ metadata: { team: "finops" } });
  const run = await netra.runs.create(thread.thread_id, "netra", { input: ASK });
  const joined = await netra.runs.join(thread.thread_id, run.run_id);
  const updated = await netra.threads.update(thread.thread_id, { metadata: { stage: "review" } });
  const copy = await netra.threads.copy(thread.thread_id);
  const history = await netra.threads.getHistory(copy.thread_id, { limit: 100 });
  const earlier = history[history.length - 1];
  const written = await netra.threads.updateState(copy.thread_id, { values: { plan: ["data"] }, asNode: "triage" });
  const forked = await netra.threads.updateState(thread.thread_id, {
    values: { question: "What did gpt-4o cost?" }, asNode: "triage", checkpointId: earlier.checkpoint_id });
  const result = {
    thread, joined, updated, copy, historyLength: history.length, earlier: earlier.checkpoint_id,
    got: await netra.threads.get(thread.thread_id),
    found: await netra.threads.search({ metadata: { team: "finops" }, limit: 100 }),
    sourceHistoryLength: (await netra.threads.getHistory(thread.thread_id, { limit: 100 })).length,
    written, copyState: await netra.threads.getState(copy.thread_id),
    forked, forkState: await netra.threads.getState(thread.thread_id),
  };
  await netra.threads.delete(copy.thread_id);
  result.afterDelete = await statusOf(netra.threads.get(copy.thread_id));
  result.stateAfterDelete = await statusOf(netra.threads.getState(copy.thread_id));
  return result;
});
