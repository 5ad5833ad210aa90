// Hand-off latency between two processes through a pair of semaphores: this
// process posts "ping" and waits on "pong"; a peer process (same runtime)
// does the reverse. One round trip = two hand-offs. Modes:
//   spin-then-park  each wait spins (SPIN loads) before it sleeps in futex(2)
//   park-only       each wait sleeps at once (spin limit 0): two futex wakes per round trip
//
//   deno run -A bench/handoff.ts [--trips 20000] [--rounds 5] [--spin 20000] [--json]
// With --json prints one line per mode: {"bench":"handoff","runtime","case","unit":"ns",
// "median","p50","p99","rounds":[medians]}.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Segment } from "../ts/mod.ts";
import { flag, median, percentile } from "./lib.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime = g.Bun ? "bun" : g.Deno ? "deno" : "node";
const trips = Number(flag("trips", "20000"));
const rounds = Number(flag("rounds", "5"));
const spin = Number(flag("spin", "20000"));
const json = flag("json") !== undefined;

function peerCommand(): [string, string[]] {
  const peer = fileURLToPath(new URL(import.meta.url.endsWith(".ts") ? "./handoff_peer.ts" : "./handoff_peer.js", import.meta.url));
  if (runtime === "deno") return [g.Deno.execPath(), ["run", "-A", peer]];
  return [process.execPath, [peer]];
}

async function measure(mode: string, spinLimit: number): Promise<{ samples: number[] }> {
  const name = `/wshm-bench-handoff-${process.pid}`;
  const segment = Segment.create(name, { size: 65536 });
  const [command, args] = peerCommand();
  const peer = spawn(command, [...args, name, String(spinLimit)], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const k = segment.constants;
    const ping = segment.findOrCreate(k.KIND_SEMAPHORE, "ping", true, 0, 1).offset;
    const pong = segment.findOrCreate(k.KIND_SEMAPHORE, "pong", true, 0, 1).offset;
    const control = new Int32Array(segment.memory.buffer, segment.bytes("control", 4).byteOffset, 1);
    await new Promise<void>((resolve, reject) => {
      peer.stdout!.once("data", () => resolve());
      peer.once("exit", (code) => reject(new Error(`peer exited early (${code})`)));
    });
    const core = segment.core;
    core.setSpinLimit(spinLimit);
    const samples = new Array<number>(trips);
    for (let i = -1000; i < trips; i++) { // the first thousand warm up
      const started = performance.now();
      core.semaphorePost(ping, 1);
      if (core.semaphoreWait(pong, 10_000) !== 0) throw new Error(`${mode}: no pong within 10 s`);
      if (i >= 0) samples[i] = (performance.now() - started) * 1e6;
    }
    Atomics.store(control, 0, 1);
    core.semaphorePost(ping, 1);
    await new Promise((resolve) => peer.once("exit", resolve));
    return { samples };
  } finally {
    peer.kill("SIGKILL");
    segment.close();
    Segment.unlink(name);
  }
}

const modes: Array<[string, number]> = [["spin-then-park", spin], ["park-only", 0]];
const byMode = new Map<string, { medians: number[]; all: number[] }>(modes.map(([m]) => [m, { medians: [], all: [] }]));
for (let r = 0; r < rounds; r++) {
  for (const [mode, spinLimit] of modes) {
    const { samples } = await measure(mode, spinLimit);
    const entry = byMode.get(mode)!;
    entry.medians.push(median(samples));
    entry.all.push(...samples);
  }
}
for (const [mode, { medians, all }] of byMode) {
  const row = {
    bench: "handoff",
    runtime,
    case: `semaphore round trip, ${mode}`,
    unit: "ns",
    median: median(medians),
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    rounds: medians,
  };
  if (json) console.log(JSON.stringify(row));
  else {
    console.log(
      `${runtime.padEnd(5)} ${row.case.padEnd(40)} median ${(row.median / 1000).toFixed(2).padStart(7)} µs` +
        `  p99 ${(row.p99 / 1000).toFixed(2).padStart(7)} µs`,
    );
  }
}
