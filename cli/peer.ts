// A demo client for any runtime: `wshm demo` starts this under Node (its build,
// dist/cli/peer.js) and Bun (this file), and the Deno CLI's own
// `client --json` for Deno. It sends COUNT requests of SIZE bytes to the
// server of segment NAME, checks every response against what HANDLER
// returns, and prints one JSON line: the LoadResult of exchange.ts.
//
//   node dist/cli/peer.js NAME COUNT SIZE TIMEOUT_MS HANDLER
//   bun run cli/peer.ts NAME COUNT SIZE TIMEOUT_MS HANDLER

import process from "node:process";
import { connect, type LoadResult, runLoad } from "./exchange.ts";
import { HANDLERS } from "./handlers.ts";

const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const [name, count, size, timeoutMs, handler] = process.argv.slice(-5);

const client = connect(name, { timeoutMs: 5000 });
try {
  const result = runLoad(client, {
    count: Number(count),
    size: Number(size),
    timeoutMs: Number(timeoutMs),
    expect: HANDLERS[handler].handle,
  });
  const line: LoadResult = { runtime, pid: process.pid, ...result };
  console.log(JSON.stringify(line));
} finally {
  client.close();
}
