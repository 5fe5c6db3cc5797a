// Assistants as Studio reads them: search, get, the graph's drawing (xray), its schemas and subgraphs.
import { client, main } from "./netra.mjs";

main(async () => {
  const netra = client();
  return {
    search: await netra.assistants.search({ graphId: "netra" }),
    get: await netra.assistants.get("agent"),
    graph: await netra.assistants.getGraph("netra"),
    xray: await netra.assistants.getGraph("netra", { xray: true }),
    depth: await netra.assistants.getGraph("netra", { xray: 1 }),
    schemas: await netra.assistants.getSchemas("netra"),
    subgraphs: await netra.assistants.getSubgraphs("netra", { recurse: true }),
    namespaced: await netra.assistants.getSubgraphs("netra", { namespace: "data" }),
  };
});
