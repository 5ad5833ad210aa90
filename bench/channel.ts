// Round trip of a 64-byte request and its 64-byte response through the
// request/response channel (classic exchange) between this process (the
// client) and a server process of the same runtime (channel_peer.ts), in
// each wait mode, against the baselines measured in the same run:
//   - a Unix domain socket round trip in this runtime (64 B to an echoing
//     peer process and back): node:net, and Deno's or Bun's own sockets;
//   - the C futex ping-pong and the C spin ping-pong (bench/c, gcc -O2).
// Cases:
//   spin             both sides wait with wait: "spin" (never sleep)
//   spin, block-timed  the same, timed per 64 trips: no clock read per trip
//                    (the others read the clock once per trip, as the C
//                    programs do; a read costs 2 ns in Bun, 57 in Node, 97 in
//                    Deno on this machine, against 34 ns in C)
//   park             both sides wait with wait: "park" (a futex wake-up per hand-off)
//   adaptive         the default: spin 50 µs, then park
//   async, MODE      client: await call.sendAsync(); server: await receiveAsync()
//   async, adaptive, two CPU-busy processes beside   the async adaptive case
//                    with two endless loops of this runtime running, against
//                    a node:net round trip under the same two loops
//   floor            no channel: a spin ping-pong on one shared word with
//                    Atomics.load/store in this runtime, the least any
//                    JavaScript round trip costs here (like the C spin one)
//   one-way, spin, pinned   the spin block-timed case with this process on
//                    CPU 0 and the server on CPU 1 (taskset), reported as half
//                    the round trip: measured the way iceoryx2 publishes its
//                    latency, against the C spin ping-pong pinned the same way
//                    (the floor pinned the same way beside it)
//   park, async park and the C futex and socket baselines, every process on
//                    one CPU (pinned)   run unpinned only: the parked targets
//                    are judged on these (see parkedTarget)
// Diagnostics that split the spin gap (bench/README.md): the client through
// the core's exports without the TypeScript wrapper; the exchange's six core
// calls with both sides in this one thread (nothing crosses cores, nothing
// waits) against the same accesses in C (bench/c/exchange_lines.c
// one-thread); and the exchange's accesses in C across two processes, as this
// core makes them and as earlier layouts did.
// The client uses the zero-copy API (begin, write the request in place, send,
// read the response in place, end); the server answers in place. Each round
// runs every case once, with a fresh peer, in the same order; a case's median
// is the median of its rounds' medians (per-trip samples).
//
//   deno run -A bench/channel.ts [--rounds 5] [--quick] [--json] [--only park,socket]
//   node dist/bench/channel.js ...        bun bench/channel.ts ...
// --json prints one line per case ({"bench":"channel","runtime","case","unit":"ns",
// "median","p50","p90","p99","baseline",...; a judged row carries "verdict"), then
// one {"target":...} line per target of issue 10 (bench/_targets.ts); otherwise a table.

import { Segment } from "../ts/mod.ts";
import { spawn } from "node:child_process";
import {
  exchange,
  exchangeAsync,
  exchangeInOneThread,
  exchangeThroughCore,
  type Mode,
  stopServer,
  wordsOf,
} from "./_loops.ts";
import { judgeLatency, printVerdicts, type Unjudged, type Verdict } from "./_targets.ts";
import { SOCKET_APIS, socketLabel, socketRoundTrips } from "./_sockets.ts";
import {
  atExit,
  flag,
  latencyRow,
  loadCBuild,
  median,
  pinningAvailable,
  pinThisProcess,
  placement,
  printRows,
  progress,
  ratio,
  type Row,
  runtime,
  startPeer,
} from "./lib.ts";

const quick = flag("quick") !== undefined;
const json = flag("json") !== undefined;
const rounds = Number(flag("rounds", quick ? "2" : "5"));
const scale = quick ? 0.2 : 1;
const cBuild = await loadCBuild();

const C_PARK = "baseline: C futex ping-pong, park";
const BUSY_ASYNC = "channel round trip, async, adaptive, two CPU-busy processes beside";
const BUSY_SOCKET = "baseline: Unix socket round trip (node:net), two CPU-busy processes beside";

/**
 * Runs `measure` with two CPU-bound processes of this runtime beside it (an
 * endless loop each), the condition under which the async adaptive mode
 * used to fall off its cliff (77 µs); they are killed when it ends.
 */
async function withBusyProcesses<T>(measure: () => Promise<T>): Promise<T> {
  const loop = "for (;;) {}";
  const argv = runtime === "deno" ? ["eval", loop] : ["-e", loop];
  const busy = [0, 1].map(() => spawn(process.execPath, argv, { stdio: "ignore" }));
  const stop = atExit(() => busy.forEach((child) => child.kill("SIGKILL")));
  try {
    return await measure();
  } finally {
    stop();
  }
}
const C_SPIN = "baseline: C spin ping-pong";
const SPIN = "channel round trip, spin";
const C_EXCHANGE = {
  classic: "C: the classic exchange's memory accesses (this core's), spin, no JavaScript",
  "client-pid": "C: the same as layout 4 did them, the client's pid stored twice per trip",
  "served-on-server-line": "C: the same as layout 3 did them, also the served counter on the server line",
  "sleeper-posts": "C: a variant posting only to sleepers, spinning on the state word (not the core's)",
  "two-lines": "C: the least a 64 B exchange needs, state and message on two lines",
};
const C_ONE_THREAD = "C: the classic exchange's memory accesses, both sides in one thread";
const ONE_THREAD = "channel exchange's core calls from JavaScript, both sides in one thread";
const C_PINNED = "baseline: C spin ping-pong one-way, pinned to two CPUs";
const ONE_CPU = ", every process on one CPU (pinned)";
const PARK_ONE_CPU = `channel round trip, park${ONE_CPU}`;
const ASYNC_PARK_ONE_CPU = `channel round trip, async, park${ONE_CPU}`;
const C_PARK_ONE_CPU = `baseline: C futex ping-pong, park${ONE_CPU}`;
const socketOneCpu = (api: string) => `baseline: Unix socket round trip (${socketLabel(api)})${ONE_CPU}`;
const PINNED = "channel one-way (half a round trip), spin, pinned to two CPUs";
const FLOOR_PINNED = "floor one-way: JavaScript spin ping-pong on one word, pinned to two CPUs";
const socketCase = (api: string) => `baseline: Unix socket round trip (${socketLabel(api)})`;

let serial = 0;

/** `trips` timed round trips (after a tenth as warm-up) with a fresh server in `mode`/`style`. */
async function channelRound(
  mode: Mode,
  style: "sync" | "async" | "two-calls" | "through-core",
  trips: number,
  block = 1,
  pin: "none" | "split" | "same" = "none",
): Promise<number[]> {
  const name = `/wshm-bench-channel-${process.pid}-${serial++}`;
  const segment = Segment.create(name, { size: 1 << 20 });
  const unpin = pin !== "none" ? pinThisProcess(0) : () => {};
  const unlink = atExit(() => {
    try {
      Segment.unlink(name);
    } catch { /* gone already */ }
  });
  let peer;
  try {
    const channel = segment.channel("bench", { capacity: 4096, wait: mode });
    peer = await startPeer(
      "channel_peer",
      ["server", name, mode, style === "through-core" ? "sync" : style, "--unlink"],
      pin === "split" ? { cpu: 1 } : pin === "same" ? { cpu: 0 } : {},
    );
    unlink(); // the peer removed the name once it had opened the segment (--unlink); this covers a peer that could not
    const words = wordsOf(segment);
    const warm = Math.max(1000, trips / 10);
    const samples = new Float64Array(trips / block);
    if (style === "async") {
      const seq = await exchangeAsync(channel, words, 64, true, warm, 0, null);
      await exchangeAsync(channel, words, 64, true, trips, seq, samples);
    } else if (style === "through-core") {
      const seq = exchangeThroughCore(segment, channel, words, warm, 0, null, block);
      exchangeThroughCore(segment, channel, words, trips, seq, samples, block);
    } else {
      const seq = exchange(channel, words, 64, true, warm, 0, null, block);
      exchange(channel, words, 64, true, trips, seq, samples, block);
    }
    stopServer(channel);
    const code = await peer.exited(10_000);
    if (code !== 0) throw new Error(`the server exited with ${code}`);
    channel.detach();
    return Array.from(samples);
  } finally {
    unpin();
    peer?.kill();
    unlink();
    segment.close();
  }
}

/** Diagnostic: `trips` exchanges with this process as client and server in one thread (exchangeInOneThread). */
function oneThreadRound(trips: number): number[] {
  const name = `/wshm-bench-channel-${process.pid}-${serial++}`;
  const segment = Segment.create(name, { size: 1 << 20 });
  const unlink = atExit(() => {
    try {
      Segment.unlink(name);
    } catch { /* gone already */ }
  });
  try {
    const channel = segment.channel("bench", { capacity: 4096, wait: "spin" });
    channel.attachServer();
    const samples = exchangeInOneThread(segment, channel, wordsOf(segment), trips, 64);
    channel.detach();
    return samples;
  } finally {
    unlink();
    segment.close();
  }
}

/** The JavaScript floor: `trips` round trips of a spin ping-pong on one shared word (Atomics), nothing else. */
async function pingpongRound(trips: number, pinned = false): Promise<number[]> {
  const name = `/wshm-bench-channel-${process.pid}-${serial++}`;
  const segment = Segment.create(name, { size: 65536 });
  const unpin = pinned ? pinThisProcess(0) : () => {};
  const unlink = atExit(() => {
    try {
      Segment.unlink(name);
    } catch { /* gone already */ }
  });
  let peer;
  try {
    const bytes = segment.bytes("pingpong", 64);
    const word = new Int32Array(bytes.buffer, bytes.byteOffset, 1);
    peer = await startPeer("channel_peer", ["pingpong", name, "--unlink"], pinned ? { cpu: 1 } : {});
    unlink();
    const samples = new Float64Array(trips);
    let previous = performance.now();
    for (let i = -Math.max(1000, trips / 10); i < trips; i++) {
      Atomics.store(word, 0, 1);
      while (Atomics.load(word, 0) !== 0);
      const now = performance.now();
      if (i >= 0) samples[i] = (now - previous) * 1e6;
      previous = now;
    }
    Atomics.store(word, 0, 2);
    const code = await peer.exited(10_000);
    if (code !== 0) throw new Error(`the ping-pong peer exited with ${code}`);
    return Array.from(samples);
  } finally {
    unpin();
    peer?.kill();
    unlink();
    segment.close();
  }
}

interface Case {
  name: string;
  baseline: true | string | (() => string);
  run: () => Promise<number[] | { median: number; p99: number }>;
}

const n = (count: number) => Math.round(count * scale);
const cases: Case[] = [
  { name: SPIN, baseline: C_SPIN, run: () => channelRound("spin", "sync", n(100_000)) },
  {
    name: "channel round trip, spin, block-timed",
    baseline: C_SPIN,
    run: () => channelRound("spin", "sync", n(102_400), 64),
  },
  {
    // Diagnostic: the server's hop in two core calls (respondWith, then
    // receive) instead of one respondAndReceive: what fusing them saves.
    name: "channel round trip, spin, server in two calls",
    baseline: C_SPIN,
    run: () => channelRound("spin", "two-calls", n(100_000)),
  },
  {
    // Diagnostic: the client through the core's exports, without ChannelCall.
    name: "channel round trip, spin, block-timed, client without the TypeScript wrapper",
    baseline: C_SPIN,
    run: () => channelRound("spin", "through-core", n(102_400), 64),
  },
  {
    // Diagnostic: what the calls and instructions cost with no cache line moving.
    name: ONE_THREAD,
    baseline: C_ONE_THREAD,
    run: () => Promise.resolve(oneThreadRound(n(1_024_000))),
  },
  {
    name: "channel round trip, park",
    baseline: () => fastestSocket,
    run: () => channelRound("park", "sync", n(10_000)),
  },
  {
    name: "channel round trip, adaptive",
    baseline: () => fastestSocket,
    run: () => channelRound("adaptive", "sync", n(20_000)),
  },
  {
    name: "channel round trip, async, adaptive",
    baseline: () => fastestSocket,
    run: () => channelRound("adaptive", "async", n(5_000)),
  },
  {
    name: "channel round trip, async, park",
    baseline: () => fastestSocket,
    run: () => channelRound("park", "async", n(5_000)),
  },
  {
    name: "channel round trip, async, spin",
    baseline: () => fastestSocket,
    run: () => channelRound("spin", "async", n(50_000)),
  },
  {
    name: "floor: JavaScript spin ping-pong on one word",
    baseline: C_SPIN,
    run: () => pingpongRound(n(100_000)),
  },
  {
    name: BUSY_ASYNC,
    baseline: BUSY_SOCKET,
    run: () => withBusyProcesses(() => channelRound("adaptive", "async", n(5_000))),
  },
  {
    name: BUSY_SOCKET,
    baseline: true,
    run: () => withBusyProcesses(async () => Array.from(await socketRoundTrips("net", n(5_000), n(500)))),
  },
  ...SOCKET_APIS.map((api): Case => ({
    name: socketCase(api),
    baseline: true,
    run: async () => Array.from(await socketRoundTrips(api, n(10_000), n(1_000))),
  })),
];
const programs = cBuild.buildC() as Record<string, string>;
cases.push(
  { name: C_PARK, baseline: true, run: () => cBuild.runC(programs.pingpong, [n(10_000), "park"]) },
  { name: C_SPIN, baseline: true, run: () => cBuild.runC(programs.pingpong, [n(100_000), "spin"]) },
  // Diagnostics: the spin round trip's memory traffic without any JavaScript
  // (bench/c/exchange_lines.c), to split the channel's gap to the C ping-pong
  // into what the protocol's cache lines cost and what the runtimes add.
  ...(["classic", "client-pid", "served-on-server-line", "sleeper-posts", "two-lines"] as const).map((
    mode,
  ): Case => ({
    name: C_EXCHANGE[mode],
    baseline: C_SPIN,
    run: () => cBuild.runC(programs.exchange_lines, [n(100_000), mode]),
  })),
  {
    name: C_ONE_THREAD,
    baseline: true,
    run: () => cBuild.runC(programs.exchange_lines, [n(1_024_000), "one-thread"]),
  },
);
const halves = (trips: number[]) => trips.map((t) => t / 2);
if (placement === "none" && pinningAvailable()) {
  cases.push(
    {
      name: PINNED,
      baseline: C_PINNED,
      run: async () => halves(await channelRound("spin", "sync", n(102_400), 64, "split")),
    },
    {
      name: FLOOR_PINNED,
      baseline: C_PINNED,
      run: async () => halves(await pingpongRound(n(100_000), true)),
    },
    { name: C_PINNED, baseline: true, run: () => cBuild.runC(programs.pingpong, [n(100_000), "pinned"]) },
    // The parked targets are judged on these: every process of a case and of
    // its baselines on CPU 0, so that each hand-off is a context switch, never
    // a wake-up of the other vCPU (see parkedTarget below).
    {
      name: PARK_ONE_CPU,
      baseline: C_PARK_ONE_CPU,
      run: () => channelRound("park", "sync", n(10_000), 1, "same"),
    },
    {
      name: ASYNC_PARK_ONE_CPU,
      baseline: () => fastestSocketOneCpu,
      run: () => channelRound("park", "async", n(5_000), 1, "same"),
    },
    {
      name: C_PARK_ONE_CPU,
      baseline: true,
      run: () =>
        cBuild.runC(programs.pingpong, [n(10_000), "park"], {
          env: { ...process.env, WSHM_BENCH_PIN: "same" },
        }),
    },
    ...SOCKET_APIS.map((api): Case => ({
      name: socketOneCpu(api),
      baseline: true,
      run: async () => Array.from(await socketRoundTrips(api, n(10_000), n(1_000), 0)),
    })),
  );
} else {
  console.error(
    "channel.ts: the pinned cases need two CPUs, taskset and WSHM_BENCH_PIN unset; skipped",
  );
}
// The C spin ping-pong runs right after the channel's spin round trip in each
// round: a spin round trip on this VM is bimodal (the C ping-pong itself is
// 0.12-0.16 µs in one phase and 0.44-0.47 µs in the other, for seconds at a
// time), and the spin target is judged on each round's pair (spinRatios).
const spinCase = cases.findIndex((c) => c.name === SPIN);
const cSpinCase = cases.findIndex((c) => c.name === C_SPIN);
if (spinCase >= 0 && cSpinCase > spinCase) cases.splice(spinCase + 1, 0, ...cases.splice(cSpinCase, 1));
// --only a,b keeps the cases whose names contain a or b (e.g. to run the
// parked cases with every process pinned to one CPU, where spinning stalls).
const only = flag("only")?.split(",");
if (only !== undefined) {
  const kept = cases.filter((c) => only.some((text) => c.name.includes(text)));
  cases.splice(0, cases.length, ...kept);
}
// The busy-processes cases are about where the scheduler puts things: pinned, the two loops would share
// this process's CPU (they inherit its affinity), which measures something else.
if (placement !== "none") {
  const kept = cases.filter((c) => c.name !== BUSY_ASYNC && c.name !== BUSY_SOCKET);
  if (kept.length < cases.length) {
    console.error(`channel.ts: WSHM_BENCH_PIN=${placement}: the busy cases skipped`);
  }
  cases.splice(0, cases.length, ...kept);
}

let fastestSocket = "";
let fastestSocketOneCpu = "";
const samples = new Map<string, number[][]>(cases.map((c) => [c.name, []]));
const cRows = new Map<string, Array<{ median: number; p99: number }>>();
for (let r = 0; r < rounds; r++) {
  for (const [i, c] of cases.entries()) {
    progress(json, (r * cases.length + i) / (rounds * cases.length));
    const result = await c.run();
    if (Array.isArray(result)) samples.get(c.name)!.push(result);
    else cRows.set(c.name, [...(cRows.get(c.name) ?? []), result]);
  }
}

const rows: Row[] = [];
for (const c of cases) {
  const c_ = cRows.get(c.name);
  if (c_ !== undefined) {
    rows.push({
      bench: "channel",
      runtime,
      case: c.name,
      unit: "ns",
      baseline: true,
      measuredBy: "c",
      median: median(c_.map((x) => x.median)),
      p99: median(c_.map((x) => x.p99)),
      rounds: c_.map((x) => x.median),
    });
  } else {rows.push(
      latencyRow(
        "channel",
        c.name,
        "ns",
        samples.get(c.name)!,
        c.baseline === true ? { baseline: true } : {},
      ),
    );}
}
const sockets = rows.filter((row) =>
  row.case.startsWith("baseline: Unix socket") && row.case !== BUSY_SOCKET && !row.case.endsWith(ONE_CPU)
);
const socketsOneCpu = rows.filter((row) =>
  row.case.startsWith("baseline: Unix socket") && row.case.endsWith(ONE_CPU)
);
const fastest = (of: Row[]) =>
  of.reduce((best, row) => (row.median < best.median ? row : best), of[0])?.case ?? "";
// The strictest comparison: against whichever socket API was fastest in this run (in the same placement).
fastestSocket = fastest(sockets);
fastestSocketOneCpu = fastest(socketsOneCpu);
const byName = new Map(rows.map((row) => [row.case, row]));
const against = (row: Row, base: string) => (byName.has(base) ? ratio(row, byName.get(base)!) : undefined);
for (const [i, c] of cases.entries()) {
  if (c.baseline === true) continue;
  const row = rows[i];
  row.baseline = typeof c.baseline === "string" ? c.baseline : c.baseline();
  const oneCpu = c.name.endsWith(ONE_CPU);
  row.ratios = {
    "C spin ping-pong": against(row, C_SPIN),
    "C spin ping-pong one-way, pinned": c.baseline === C_PINNED ? against(row, C_PINNED) : undefined,
    "C futex ping-pong": against(row, oneCpu ? C_PARK_ONE_CPU : C_PARK),
    "Unix socket (fastest)": against(row, oneCpu ? fastestSocketOneCpu : fastestSocket),
  };
}

// The targets of issue 10, each against its baseline measured in this run.
// A parked target compares two rows that each hand off through the
// scheduler. Unpinned, each of them lands on one CPU or on two as the
// scheduler places it (on this VM 2-10 µs against 50-110 µs per round trip,
// for C as much as for the channel), so an unpinned verdict would judge the
// placement: one run measured Bun's channel on one CPU (6.5 µs) against the C
// futex on two (48 µs) and called that 0.14x. Those targets are judged only
// with every process placed: unpinned, on the cases run with every process
// on CPU 0 (one CPU, where a hand-off is a context switch and the channel's
// own work shows; the two-CPU regime is a wake-up of the idle vCPU for every
// design, see bench/README.md); under WSHM_BENCH_PIN=same or split, on the
// main cases, placed as it says (bench/lib.ts).
const parkedTarget = (
  target: string,
  [row, base]: [string, string],
  [rowOneCpu, baseOneCpu]: [string, string],
  bound: { atMost: number } | { fasterBy: number },
): Verdict | Unjudged | undefined => {
  if (placement === "none" && byName.has(rowOneCpu) && byName.has(baseOneCpu)) {
    return judgeLatency(target, byName.get(rowOneCpu), byName.get(baseOneCpu), bound);
  }
  if (!byName.has(row) || !byName.has(base)) return undefined;
  if (placement === "none") {
    return {
      target,
      unjudged: "unpinned, and the cases on one CPU were not run (they need two CPUs and taskset): " +
        "each parked row lands on one CPU or two as the scheduler places it; " +
        "run with WSHM_BENCH_PIN=same (one CPU) or WSHM_BENCH_PIN=split (two)",
    };
  }
  return judgeLatency(target, byName.get(row), byName.get(base), bound);
};
/** Each round's spin round trip over the C spin ping-pong run right after it (same phase of the VM, mostly). */
const spinRatios = (): number[] => {
  const channel = samples.get(SPIN) ?? [];
  const c = cRows.get(C_SPIN) ?? [];
  return channel.slice(0, c.length).map((round, r) => median(round) / c[r].median);
};
const verdicts = [
  judgeLatency(
    "channel spin round trip at most 1.5x the C spin ping-pong",
    byName.get(SPIN),
    byName.get(C_SPIN),
    { atMost: 1.5 },
    spinRatios(),
  ),
  parkedTarget(
    "channel park round trip at most 1.3x the C futex ping-pong",
    ["channel round trip, park", C_PARK],
    [PARK_ONE_CPU, C_PARK_ONE_CPU],
    { atMost: 1.3 },
  ),
  parkedTarget(
    "channel park at least 3x faster than the fastest Unix socket",
    ["channel round trip, park", fastestSocket],
    [PARK_ONE_CPU, fastestSocketOneCpu],
    { fasterBy: 3 },
  ),
  parkedTarget(
    "async park at least 2x faster than the fastest Unix socket",
    ["channel round trip, async, park", fastestSocket],
    [ASYNC_PARK_ONE_CPU, fastestSocketOneCpu],
    { fasterBy: 2 },
  ),
  judgeLatency(
    "async adaptive at least 2x faster than the fastest Unix socket",
    byName.get("channel round trip, async, adaptive"),
    byName.get(fastestSocket),
    { fasterBy: 2 },
  ),
  judgeLatency(
    "async adaptive with two CPU-busy processes beside still faster than the Unix socket beside them",
    byName.get(BUSY_ASYNC),
    byName.get(BUSY_SOCKET),
    { fasterBy: 1 },
  ),
];

printRows(rows, json);
printVerdicts(verdicts, json, runtime);
process.exit(0);
