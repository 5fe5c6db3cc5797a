// What every script shares: a langgraph-sdk Client signed in to the Netra server the environment names,
// the events of a stream collected, the HTTP status of a call, and the one JSON line a script prints.
//
//   import { client, collect, statusOf, report } from "./netra.mjs";
//   const netra = client();                       // NETRA_URL, NETRA_TOKEN (bearer), NETRA_WORKSPACE (optional)
//   const keyed = keyClient();                    // the same token as Studio sends its key: `x-api-key` only
//   report({ graph: await netra.assistants.getGraph("netra") });
import { Client } from "@langchain/langgraph-sdk";

export const QUESTION = "How can we cut our LLM spend by 30% without hurting quality?";
export const ASK = { messages: [{ role: "user", content: QUESTION }] };

export function client(token = process.env.NETRA_TOKEN) {
  const headers = { Authorization: `Bearer ${token}`, ...workspaceHeaders() };
  return new Client({ apiUrl: process.env.NETRA_URL, apiKey: null, defaultHeaders: headers });
}

function workspaceHeaders() {
  return process.env.NETRA_WORKSPACE ? { "X-Netra-Workspace": process.env.NETRA_WORKSPACE } : {};
}

export function keyClient(token = process.env.NETRA_TOKEN) {
  return new Client({ apiUrl: process.env.NETRA_URL, apiKey: token, defaultHeaders: workspaceHeaders() });
}

export async function collect(stream) {
  const parts = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

export async function statusOf(call) {
  try {
    await call;
    return 200;
  } catch (error) {
    return error?.status ?? error?.response?.status ?? String(error);
  }
}

export function report(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export async function main(scenario) {
  try {
    report(await scenario());
  } catch (error) {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exit(1);
  }
}
