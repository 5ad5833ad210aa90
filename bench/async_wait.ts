// What an async wait costs, per runtime. A peer process (this file with
// --peer) takes "ping", busy-waits DELAY µs, and posts "pong"; this side posts
// "ping" and waits for "pong" synchronously, or through Semaphore.waitAsync
// (the futex wait runs off the JavaScript thread, see ts/wait.ts), or through
// waitAsync while a 1 ms setInterval keeps the loop busy. Both sides park at
// once (spin limit 0). With DELAY 0 the reply often comes before this side
// sleeps; with DELAY 300 this side is surely asleep, so "round trip - delay"
// is the cost of being woken (sync: futex wake; async: futex wake of the
// helper thread plus its hand-back to the event loop). Also the fixed cost of
// one off-thread futex wait that returns at once (the word already differs).
//
//   deno run -A bench/async_wait.ts [--trips 3000] [--rounds 3] [--delay 300]
//   node dist/bench/async_wait.js ...   bun bench/async_wait.ts ...

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Segment } from "../ts/mod.ts";
import { WaiterThread } from "../ts/platform/waiter_thread.ts";
import { flag, median, percentile } from "./lib.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime = g.Bun ? "bun" : g.Deno ? "deno" : "node";
const trips = Number(flag("trips", "3000"));
const rounds = Number(flag("rounds", "3"));
const delays = [0, Number(flag("delay", "300"))];

function peerCommand(): [string, string[]] {
  const peer = fileURLToPath(import.meta.url);
  if (runtime === "deno") return [g.Deno.execPath(), ["run", "-A", peer]];
  return [process.execPath, [peer]];
}

/** The peer: ping -> busy-wait -> pong, until the control word says stop. */
function peer(name: string, delayUs: number): void {
  const segment = Segment.open(name, { timeoutMs: 5000 });
  segment.core.setSpinLimit(0);
  const ping = segment.semaphore("ping", { create: false });
  const pong = segment.semaphore("pong", { create: false });
  const control = new Int32Array(segment.memory.buffer, segment.bytes("control", 4).byteOffset, 1);
  console.log("ready");
  while (true) {
    ping.wait({ timeoutMs: 10_000 });
    if (Atomics.load(control, 0) !== 0) break;
    const until = performance.now() + delayUs / 1000;
    while (performance.now() < until) { /* busy: this side must not sleep */ }
    pong.post();
  }
  segment.close();
}

type Waiter = (segment: Segment) => Promise<void> | void;

/**
 * Semaphore wait through the step API, sleeping on one waiter thread (the
 * library's, ts/platform/waiter_thread.ts: a worker that blocks in futex(2)
 * and wakes this thread through Atomics.waitAsync), in every runtime. Node's
 * backend uses it for concurrent async waits; Deno and Bun have their own.
 */
async function waitOnThread(segment: Segment): Promise<void> {
  const core = segment.core;
  const offset = segment.semaphore("pong").handle;
  if (core.semaphoreTryWait(offset) === 0) return;
  const k = segment.constants;
  let flags: number = k.STEP_PARK;
  while (core.semaphoreWaitStep(offset, 0, 0, flags) !== 0) {
    flags = k.STEP_PARK | k.STEP_REGISTERED;
    await waiterThread.wait(segment.base + core.waitAddress(), core.waitValue(), 100);
  }
}

const WAYS: Record<string, Waiter> = {
  sync: (segment) => void segment.semaphore("pong").wait({ timeoutMs: 10_000 }),
  async: async (segment) => void (await segment.semaphore("pong").waitAsync({ timeoutMs: 10_000 })),
  "async+timer": async (segment) => void (await segment.semaphore("pong").waitAsync({ timeoutMs: 10_000 })),
  "waiter-thread": waitOnThread,
};

async function handoff(way: string, delayUs: number): Promise<number[]> {
  const name = `/wshm-bench-async-${process.pid}`;
  const segment = Segment.create(name, { size: 65536 });
  const [command, args] = peerCommand();
  const peer = spawn(command, [...args, "--peer", name, String(delayUs)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const timer = way === "async+timer" ? setInterval(() => {}, 1) : undefined;
  try {
    const ping = segment.semaphore("ping", { maximum: 1 });
    segment.semaphore("pong", { maximum: 1 });
    const control = new Int32Array(segment.memory.buffer, segment.bytes("control", 4).byteOffset, 1);
    await new Promise<void>((resolve, reject) => {
      peer.stdout!.once("data", () => resolve());
      peer.once("exit", (code) => reject(new Error(`peer exited early (${code})`)));
    });
    segment.core.setSpinLimit(0);
    const wait = WAYS[way];
    const samples: number[] = [];
    for (let i = -200; i < trips; i++) {
      const started = performance.now();
      ping.post();
      await wait(segment);
      if (i >= 0) samples.push((performance.now() - started) * 1000 - delayUs);
    }
    Atomics.store(control, 0, 1);
    ping.post();
    await new Promise((resolve) => peer.once("exit", resolve));
    return samples;
  } finally {
    if (timer !== undefined) clearInterval(timer);
    peer.kill("SIGKILL");
    segment.close();
    Segment.unlink(name);
  }
}

/** Microseconds for one off-thread futex wait on a word that does not hold the expected value. */
async function offThreadHop(): Promise<number[]> {
  const name = `/wshm-bench-hop-${process.pid}`;
  const segment = Segment.create(name, { size: 65536 });
  try {
    // The word holds 0; waiting for 1 returns at once (EAGAIN) after the hop to the other thread.
    const address = segment.base + segment.bytes("word", 4).byteOffset;
    const samples: number[] = [];
    for (let i = -200; i < trips; i++) {
      const started = performance.now();
      await segment.posix.futexWaitAsync(address, 1, 1000);
      if (i >= 0) samples.push((performance.now() - started) * 1000);
    }
    return samples;
  } finally {
    segment.close();
    Segment.unlink(name);
  }
}

if (process.argv.includes("--peer")) {
  const [name, delay] = process.argv.slice(-2);
  peer(name, Number(delay));
  process.exit(0);
}
const waiterThread = await WaiterThread.start();
// Started before the runs (its start-up is not a wait's cost): one wait that returns at once.
await waiterThread.wait(0, 0, 0);
const results = new Map<string, number[]>();
const add = (key: string, samples: number[]) => results.set(key, [...(results.get(key) ?? []), ...samples]);
for (let r = 0; r < rounds; r++) {
  for (const delay of delays) {
    for (const way of Object.keys(WAYS)) add(`${way} ${delay}`, await handoff(way, delay));
  }
  add("hop", await offThreadHop());
}
for (const [key, samples] of results) {
  const [way, delay] = key.split(" ");
  const what = way === "hop"
    ? "one off-thread futex wait, returns at once"
    : `round trip - ${delay} µs delay, waiting ${way}`;
  console.log(
    `${runtime.padEnd(5)} ${what.padEnd(48)} median ${median(samples).toFixed(1).padStart(7)} µs` +
      `  p99 ${percentile(samples, 99).toFixed(1).padStart(7)} µs`,
  );
}
// The idle waiter thread is unref'd, but a worker blocked in Atomics.wait can keep some runtimes alive.
process.exit(0);
