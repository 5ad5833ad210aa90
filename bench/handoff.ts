// Hand-off latency between two processes through a pair of semaphores: this
// process posts "ping" and waits on "pong"; a peer process (same runtime)
// does the reverse. One round trip = two hand-offs. Modes:
//   spin-then-park  each wait spins (SPIN loads) before it sleeps in futex(2)
//   park-only       each wait sleeps at once (spin limit 0): two futex wakes per round trip
// Beside each mode, in the same run and interleaved with it, the C program
// bench/c/sem_handoff.c runs the same protocol (gcc -O2) as the baseline.
//
//   deno run -A bench/handoff.ts [--trips 20000] [--rounds 5] [--spin 20000] [--quick] [--json]
// With --json prints one line per case (the contract of docs/cli.md): {"bench":"handoff",
// "runtime","case","unit":"ns","median","p50","p99","rounds":[medians],"baseline"}.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Segment } from "../ts/mod.ts";
import { flag, loadCBuild, median, percentile } from "./lib.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime = g.Bun ? "bun" : g.Deno ? "deno" : "node";
const quick = flag("quick") !== undefined;
const trips = Number(flag("trips", quick ? "3000" : "20000"));
const rounds = Number(flag("rounds", quick ? "2" : "5"));
const spin = Number(flag("spin", "20000"));
const json = flag("json") !== undefined;

function peerCommand(): [string, string[]] {
  const peer = fileURLToPath(
    new URL(import.meta.url.endsWith(".ts") ? "./handoff_peer.ts" : "./handoff_peer.js", import.meta.url),
  );
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
    const ping = segment.findOrCreate(k.KIND_SEMAPHORE, "ping", { create: true }, 0, 1).handle;
    const pong = segment.findOrCreate(k.KIND_SEMAPHORE, "pong", { create: true }, 0, 1).handle;
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
      if (core.semaphoreWait(pong, 10_000, spinLimit) !== 0) throw new Error(`${mode}: no pong within 10 s`);
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

const cBuild = await loadCBuild();
const programs = cBuild.buildC() as Record<string, string>;

type Row = { medians: number[]; all: number[]; p99s: number[] };
const modes: Array<[string, number]> = [["spin-then-park", spin], ["park-only", 0]];
const wasmRows = new Map<string, Row>(modes.map(([m]) => [m, { medians: [], all: [], p99s: [] }]));
const cRows = new Map<string, Row>(modes.map(([m]) => [m, { medians: [], all: [], p99s: [] }]));
for (let r = 0; r < rounds; r++) {
  for (const [mode, spinLimit] of modes) {
    const { samples } = await measure(mode, spinLimit);
    const entry = wasmRows.get(mode)!;
    entry.medians.push(median(samples));
    entry.all.push(...samples);
    const args = mode === "park-only" ? [trips, "park-only"] : [trips, "spin-then-park", spinLimit];
    const c = await cBuild.runC(programs.sem_handoff, args);
    const cEntry = cRows.get(mode)!;
    cEntry.medians.push(c.median);
    cEntry.p99s.push(c.p99);
  }
  if (json) console.log(JSON.stringify({ progress: (r + 1) / rounds }));
}

for (const [mode] of modes) {
  const wasm = wasmRows.get(mode)!;
  const c = cRows.get(mode)!;
  const baselineCase = `baseline: C, semaphore round trip, ${mode}`;
  const cRow = {
    bench: "handoff",
    runtime,
    case: baselineCase,
    unit: "ns",
    median: median(c.medians),
    p99: median(c.p99s),
    rounds: c.medians,
    baseline: true,
  };
  const row = {
    bench: "handoff",
    runtime,
    case: `semaphore round trip, ${mode}`,
    unit: "ns",
    median: median(wasm.medians),
    p50: percentile(wasm.all, 50),
    p99: percentile(wasm.all, 99),
    rounds: wasm.medians,
    baseline: baselineCase,
  };
  if (json) {
    console.log(JSON.stringify(cRow));
    console.log(JSON.stringify(row));
  } else {
    const ratio = row.median / cRow.median;
    console.log(
      `${runtime.padEnd(5)} ${row.case.padEnd(40)} median ${(row.median / 1000).toFixed(2).padStart(7)} µs` +
        `  p99 ${(row.p99 / 1000).toFixed(2).padStart(7)} µs   C: ${(cRow.median / 1000).toFixed(2)} µs` +
        `   wasm/C ${ratio.toFixed(2)}x`,
    );
  }
}
