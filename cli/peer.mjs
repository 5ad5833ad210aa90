// @ts-check
// A demo client for any runtime: `wshm demo` starts this under Node (with the
// library built into dist/) and Bun (with the TypeScript sources), and the
// Deno CLI's own `client --json` for Deno. It sends COUNT requests of SIZE
// bytes to the server of segment NAME, checks every response against what
// HANDLER returns, and prints one JSON line: the LoadResult of exchange.mjs.
//
//   node cli/peer.mjs NAME COUNT SIZE TIMEOUT_MS HANDLER

import { connect, runLoad } from "./exchange.mjs";
import { HANDLERS } from "./handlers.mjs";

/** @type {any} */
const g = globalThis;
const runtime = g.Bun ? "bun" : g.Deno ? "deno" : "node";
const [name, count, size, timeoutMs, handler] = process.argv.slice(-5);

const lib = runtime === "node"
  ? await import(new URL("../dist/ts/mod.js", import.meta.url).href)
  : await import(new URL("../ts/mod.ts", import.meta.url).href);

const client = connect(lib, name, { timeoutMs: 5000 });
try {
  const result = runLoad(client, {
    count: Number(count),
    size: Number(size),
    timeoutMs: Number(timeoutMs),
    expect: HANDLERS[handler].handle,
  });
  console.log(JSON.stringify({ runtime, pid: process.pid, ...result }));
} finally {
  client.close();
}
