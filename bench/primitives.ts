// The cost of the primitives every object is built from, in this runtime:
// an uncontended mutex lock+unlock called from TypeScript (through the Mutex
// class, and straight through the core's exports), a semaphore post+take with
// nobody waiting (no syscall: the sleepers count is 0), and a futex wake with
// nobody waiting (one real syscall), beside getpid() through the same FFI as
// the baseline of what one FFI call costs. Then single wasm instructions of
// the kinds the core is made of (bench/_wasm_probe.ts: atomic and plain load
// and store, compare-and-swap, on a shared memory) and a call into wasm,
// each against the same instruction in C (bench/c/atomics.c), measured in
// the same rounds.
//
//   deno run -A bench/primitives.ts [--rounds 15] [--iterations 1000000] [--json]
//   node dist/bench/primitives.js ...      bun bench/primitives.ts ...
// Prints one JSON line per case with --json: {"bench":"primitives","runtime",
// "case","unit":"ns/op","median","rounds":[...]}.

import { Segment } from "../ts/mod.ts";
import { execFileSync } from "node:child_process";
import { flag, interleaved, loadCBuild, median, nsPerOp } from "./lib.ts";
import { probe, PROBE_INSTRUCTIONS } from "./_wasm_probe.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime = g.Bun ? "bun" : g.Deno ? "deno" : "node";
const rounds = Number(flag("rounds", "15"));
const iterations = Number(flag("iterations", "1000000"));
const json = flag("json") !== undefined;

/** The instruction rows: each wasm instruction of the probe, a call into wasm, and C's same instructions. */
async function instructionCases(): Promise<Array<{ name: string; round: () => number }>> {
  const wasm = probe();
  const programs = (await loadCBuild()).buildC() as Record<string, string>;
  const count = iterations * 10;
  const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const inC = (op: string) => {
    const line = String(execFileSync(programs.atomics, [String(count), op]));
    return (JSON.parse(line.split("\n").find((l) => l.startsWith("{"))!) as { median: number }).median;
  };
  return [
    ...PROBE_INSTRUCTIONS.map((instruction) => ({
      name: `wasm ${kebab(instruction)} (one instruction, shared memory)`,
      round: () => nsPerOp(count, (n) => wasm[instruction](n)),
    })),
    {
      name: "a call into wasm (an export that adds 1)",
      round: () =>
        nsPerOp(iterations, (n) => {
          let sum = 0;
          for (let i = 0; i < n; i++) sum += wasm.call(i);
          if (sum === -1) throw new Error("unreachable");
        }),
    },
    ...PROBE_INSTRUCTIONS.map((instruction) => ({
      name: `baseline: C ${kebab(instruction)}`,
      round: () => inC(kebab(instruction)),
    })),
  ];
}

const name = `/wshm-bench-primitives-${process.pid}`;
const segment = Segment.create(name, { size: 65536 });
try {
  const mutex = segment.mutex("m");
  const semaphore =
    segment.findOrCreate(segment.constants.KIND_SEMAPHORE, "s", { create: true }, 0, 1 << 30).handle;
  const core = segment.core;
  const offset = mutex.handle;
  const posix = segment.posix;
  const wakeAddress = segment.base + segment.constants.SEGMENT_BASE + semaphore;
  const wakeIterations = Math.max(1000, iterations / 10);

  const cases = [
    {
      name: "mutex lock+unlock (Mutex class)",
      round: () =>
        nsPerOp(iterations, (n) => {
          for (let i = 0; i < n; i++) {
            mutex.lock();
            mutex.unlock();
          }
        }),
    },
    {
      name: "mutex lock+unlock (core exports)",
      round: () =>
        nsPerOp(iterations, (n) => {
          for (let i = 0; i < n; i++) {
            core.mutexLock(offset, -1, segment.constants.WAIT_ADAPTIVE);
            core.mutexUnlock(offset);
          }
        }),
    },
    {
      name: "semaphore post+tryWait, nobody waiting",
      round: () =>
        nsPerOp(iterations, (n) => {
          for (let i = 0; i < n; i++) {
            core.semaphorePost(semaphore, 1);
            core.semaphoreTryWait(semaphore);
          }
        }),
    },
    {
      name: "futex wake syscall, nobody waiting",
      round: () =>
        nsPerOp(wakeIterations, (n) => {
          for (let i = 0; i < n; i++) posix.futexWake(wakeAddress, 1);
        }),
    },
    {
      name: "baseline: getpid() through the FFI",
      round: () =>
        nsPerOp(wakeIterations, (n) => {
          for (let i = 0; i < n; i++) posix.getpidUncached();
        }),
    },
    ...await instructionCases(),
  ];
  const results = interleaved(cases, rounds);
  for (const [label, values] of results) {
    const m = median(values);
    if (json) {
      console.log(
        JSON.stringify({
          bench: "primitives",
          runtime,
          case: label,
          unit: "ns/op",
          median: m,
          rounds: values,
        }),
      );
    } else {
      console.log(`${runtime.padEnd(5)} ${label.padEnd(42)} ${m.toFixed(1).padStart(8)} ns/op`);
    }
  }
} finally {
  segment.close();
  Segment.unlink(name);
}
