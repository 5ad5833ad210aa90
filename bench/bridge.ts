// The NATS bridge (wshm/bridge) between real processes, each case against a
// raw NATS baseline between the same two runtimes, measured in the same
// rounds (interleaved), through one nats-server of this run on a loopback port:
//
//   bridge round trip, 64 B    a client process on segment A calls channel
//        "rpc" -> the importing bridge process (A) -> NATS -> the exporting
//        bridge process (B) -> a server process on segment B, and back;
//        against a NATS request/reply between a client process and a
//        responder process (64 B, the same stamps and checks). Target: at
//        most 1.10x the raw round trip. p50 and p99 over every sample.
//   bridge topic 64 B, POLICY  a publisher process on segment B publishes
//        COUNT 64 B messages on topic "feed" -> the exporting bridge (B) ->
//        NATS -> the importing bridge (A) -> a subscriber process on A, which
//        counts them (msgs/s from its first data message to its last); against
//        one NATS publisher process and one subscriber process doing the same
//        over a subject. Target: at least 0.8x the raw rate. POLICY: "block"
//        (the default; credit across the bridge, nothing may be lost) and
//        "overwrite" (losses allowed and counted in "missed"; shown, not judged).
//   bridge queue 64 B          a producer process on B sends COUNT 64 B
//        messages through queue "jobs" -> the exporting bridge, which the
//        importing bridge pulls (A) -> a consumer process on A, which counts
//        distinct messages; against the same raw NATS publish/subscribe
//        baseline (shown, not judged: the issue sets no queue target).
//
// Runtimes: the client/publisher side (its application process and its
// bridge) runs under the first of --runtimes, the server/subscriber side under
// the second (default deno,node), in the bridge case and the baseline alike.
// Every process is fresh per case and round. Segment names are removed as
// soon as every process has opened them; processes, segments and nats-server
// are removed at the end, on errors and on SIGINT/SIGTERM/SIGHUP (processes
// also end when their stdin closes or at their timeouts, so a SIGKILL of this
// script leaves only nats-server behind).
//
//   deno run -A bench/bridge.ts [--rounds 5] [--quick] [--json] [--runtimes deno,node]
//                               [--only rr,topic,queue] [--policies block,overwrite]
//                               [--trips N] [--count N] [--wait adaptive|park|spin]
//   node dist/bench/bridge.js ...        bun bench/bridge.ts ...
// --json prints one row per case (a judged row carries "verdict"), then one
// {"target": ...} line per target; otherwise a table, MET/MISSED lines, and the
// load average before and after. Without nats-server it says so and exits 0.

import { loadavg } from "node:os";
import { Segment } from "../ts/mod.ts";
import type { WaitMode } from "../ts/mod.ts";
import { natsServerAvailable, startNatsServer } from "../test/nats_server.ts";
import { judgeLatency, judgeRate, printVerdicts, type Verdict } from "./_targets.ts";
import {
  atExit,
  flag,
  latencyRow,
  type Peer,
  printRows,
  progress,
  type Row,
  type Runtime,
  runtime,
  startPeer,
} from "./lib.ts";

const quick = flag("quick") !== undefined;
const json = flag("json") !== undefined;

/** Reads --NAME; a bad value ends the run with BRIDGE_BENCH_BAD_OPTION on stderr and exit code 2. */
function option<T>(name: string, fallback: string, parse: (text: string) => T | undefined, what: string): T {
  const text = flag(name, fallback)!;
  const value = parse(text);
  if (value === undefined) {
    console.error(`bridge: BRIDGE_BENCH_BAD_OPTION: Invalid --${name} ${JSON.stringify(text)}: ${what}`);
    process.exit(2);
  }
  return value;
}
const positive = (text: string) => (/^[1-9]\d*$/.test(text) ? Number(text) : undefined);
const RUNTIMES: Runtime[] = ["deno", "node", "bun"];
const WAITS: WaitMode[] = ["adaptive", "park", "spin"];
const POLICIES = ["block", "overwrite"] as const;
type Policy = typeof POLICIES[number];

const rounds = option("rounds", quick ? "2" : "5", positive, "a positive integer");
const trips = option(
  "trips",
  quick ? "1000" : "5000",
  positive,
  "a positive integer (round trips per case and round)",
);
const count = option(
  "count",
  quick ? "40000" : "200000",
  positive,
  "a positive integer (messages per case and round)",
);
const [nearRuntime, farRuntime] = option("runtimes", "deno,node", (text) => {
  const list = text.split(",");
  return list.length === 2 && list.every((r) => (RUNTIMES as string[]).includes(r))
    ? list as Runtime[]
    : undefined;
}, "two of deno, node, bun: the client/publisher side, then the server/subscriber side");
const wait = option(
  "wait",
  "adaptive",
  (t) => (WAITS as string[]).includes(t) ? t as WaitMode : undefined,
  WAITS.join(" | "),
);
const policies = option("policies", "block,overwrite", (text) => {
  const list = text.split(",");
  return list.every((p) => (POLICIES as readonly string[]).includes(p)) ? list as Policy[] : undefined;
}, "block and/or overwrite, comma-separated");
const only = option("only", "rr,topic,queue", (text) => {
  const list = text.split(",");
  return list.every((k) => k === "rr" || k === "topic" || k === "queue") ? list : undefined;
}, "rr, topic and/or queue, comma-separated");

const pair = `${nearRuntime} -> ${farRuntime}`;
const BRIDGE_RR = "bridge round trip, 64 B";
const RAW_RR = "baseline: NATS request/reply round trip, 64 B";
const HOP_IMPORT = "hop alone, after 1 ms idle: client -> channel -> receiveAsync() server (importer's side)";
const HOP_EXPORT = "hop alone, after 1 ms idle: requestAsync() client -> channel -> server (exporter's side)";
const bridgeTopic = (policy: Policy) => `bridge topic 64 B, ${policy} policy`;
const RAW_TOPIC = "baseline: NATS publish/subscribe, 64 B";
const BRIDGE_QUEUE = "bridge queue 64 B (pulled by the importer)";

if (!natsServerAvailable()) {
  if (!json) {
    console.log("bridge: not measured: nats-server is not installed (Debian: apt-get install nats-server)");
  }
  process.exit(0);
}

const loadBefore = loadavg();
const nats = await startNatsServer();
// For a caller that checks the clean-up (test/bridge_bench.test.ts); `wshm bench` ignores the line.
if (json) console.log(JSON.stringify({ natsServer: { pid: nats.pid, port: nats.port }, pid: process.pid }));
const stopNats = atExit(() => {
  // Synchronous, as an exit hook must be: the server holds nothing that needs a graceful stop.
  if (nats.pid > 0) {
    try {
      process.kill(nats.pid, "SIGKILL");
    } catch { /* gone already */ }
  }
});

let serial = 0;

/** A fresh segment of this run, its name removed at exit (or earlier, by `unlink`). */
function newSegment(tag: string): { segment: Segment; name: string; unlink: () => void } {
  const name = `/wshm-bench-bridge-${process.pid}-${serial}-${tag}`;
  const segment = Segment.create(name, { size: 4 << 20 });
  const unlink = atExit(() => {
    try {
      Segment.unlink(name);
    } catch { /* gone already */ }
  });
  return { segment, name, unlink };
}

/** Starts bench/bridge_peer.ts ROLE ... under `rt`, with a stdin pipe (it ends when the pipe closes). */
function peer(rt: Runtime, args: Array<string | number>): Promise<Peer> {
  return startPeer("bridge_peer", args, { runtime: rt, stdin: true, readyTimeoutMs: 60_000 });
}

/** Asks a bridge peer for its counters and waits for it to close. */
async function bridgeStats(bridge: Peer): Promise<Record<string, unknown>> {
  bridge.write("stop\n");
  const line = await bridge.line(/^stats /, 20_000);
  await bridge.exited(20_000);
  return JSON.parse(line.slice(6));
}

function parseSamples(line: string): number[] {
  return line.slice(8).split(" ").map(Number);
}

/** What a case learned besides its samples (the bridges' counters). */
interface Detail {
  natsMessagesPerRecord?: number;
  missed?: number;
  received?: number;
  /** Round trips: CPU µs per round trip of the client process. */
  clientCpuUs?: number;
  /** CPU µs per message of the importing and the exporting bridge process. */
  cpuUs?: [number, number];
  /** Topic: the messages the exporting and the importing bridge counted as missed. */
  lostAt?: [number, number];
}

/** One bridged round-trip case: ns per round trip, one sample each. */
async function bridgeRoundTrips(detail: Detail): Promise<number[]> {
  serial++;
  const prefix = `bench${process.pid}x${serial}`;
  const a = newSegment("a");
  const b = newSegment("b");
  const peers: Peer[] = [];
  try {
    b.segment.channel("rpc", { capacity: 256 });
    const server = await peer(farRuntime, ["server", b.name, "rpc", wait]);
    peers.push(server);
    const exporter = await peer(farRuntime, ["bridge", b.name, nats.url, prefix, "export", "rpc"]);
    peers.push(exporter);
    const importer = await peer(nearRuntime, ["bridge", a.name, nats.url, prefix, "import", "rpc"]);
    peers.push(importer);
    const client = await peer(nearRuntime, ["client", a.name, "rpc", trips, wait]);
    peers.push(client);
    a.unlink(); // every process has the segments open now
    b.unlink();
    const samples = parseSamples(await client.line(/^samples /, 300_000));
    detail.clientCpuUs = Number((await client.line(/^cpu /)).slice(4));
    const code = await client.exited(20_000);
    if (code !== 0) throw new Error(`the client exited with ${code}`);
    const serverCode = await server.exited(20_000);
    if (serverCode !== 0) throw new Error(`the server exited with ${serverCode}`);
    const stats = await bridgeStats(importer);
    const object = (stats.objects as Array<Record<string, number>>)[0];
    detail.missed = object.errors;
    detail.cpuUs = [stats.cpuPerMessageUs as number, (await bridgeStats(exporter)).cpuPerMessageUs as number];
    return samples;
  } finally {
    for (const p of peers) p.kill();
    a.unlink();
    b.unlink();
    a.segment.close();
    b.segment.close();
  }
}

/** The raw baseline: a NATS client process and a responder process; ns per round trip. */
async function rawRoundTrips(detail: Detail): Promise<number[]> {
  serial++;
  const subject = `bench${process.pid}x${serial}.rr`;
  const peers: Peer[] = [];
  try {
    peers.push(await peer(farRuntime, ["nats-responder", nats.url, subject]));
    const client = await peer(nearRuntime, ["nats-client", nats.url, subject, trips]);
    peers.push(client);
    const samples = parseSamples(await client.line(/^samples /, 300_000));
    detail.clientCpuUs = Number((await client.line(/^cpu /)).slice(4));
    const code = await client.exited(20_000);
    if (code !== 0) throw new Error(`the NATS client exited with ${code}`);
    return samples;
  } finally {
    for (const p of peers) p.kill();
  }
}

/**
 * A hop's calls are timed one by one after this idle gap: in a bridged round
 * trip each hop follows a NATS round trip (hundreds of µs), longer than the
 * 50 µs poll of the adaptive wait, so both processes of a hop have parked
 * (back to back, a hop costs 2-7 µs here, and that is not what the bridge pays).
 */
const HOP_GAP_MS = 1;
const hopTrips = Math.max(100, Math.round(trips / 5));

/**
 * One of the bridge's two local hops alone, between the processes of its side
 * (same runtime, same channel shape, same calls as the bridge makes), so that
 * the bridged round trip can be taken apart: raw NATS + both hops + the rest.
 */
async function hopRoundTrips(side: "import" | "export"): Promise<number[]> {
  serial++;
  const s = newSegment(side === "import" ? "a" : "b");
  const peers: Peer[] = [];
  try {
    // As the importing bridge creates it (many-client), and as the benchmark creates B's.
    s.segment.channel("rpc", side === "import" ? { capacity: 256, clients: 16 } : { capacity: 256 });
    let client: Peer;
    if (side === "import") {
      peers.push(await peer(nearRuntime, ["relay-echo", s.name, "rpc", wait]));
      client = await peer(nearRuntime, ["client", s.name, "rpc", hopTrips, wait, HOP_GAP_MS]);
    } else {
      peers.push(await peer(farRuntime, ["server", s.name, "rpc", wait]));
      client = await peer(farRuntime, ["async-client", s.name, "rpc", hopTrips, wait, HOP_GAP_MS]);
    }
    peers.push(client);
    s.unlink();
    const samples = parseSamples(await client.line(/^samples /, 300_000));
    const code = await client.exited(20_000);
    if (code !== 0) throw new Error(`the ${side} hop's client exited with ${code}`);
    return samples;
  } finally {
    for (const p of peers) p.kill();
    s.unlink();
    s.segment.close();
  }
}

/** Reads a subscriber's "result RATE RECEIVED MISSED" line. */
async function subscriberResult(
  subscriber: Peer,
): Promise<{ rate: number; received: number; missed: number }> {
  const [rate, received, missed] = (await subscriber.line(/^result /, 300_000)).slice(7).split(" ").map(
    Number,
  );
  const code = await subscriber.exited(20_000);
  if (code !== 0) throw new Error(`the subscriber exited with ${code}`);
  return { rate, received, missed };
}

/** One bridged topic case: the subscriber's msgs/s. */
async function bridgeTopicRate(policy: Policy, detail: Detail): Promise<number> {
  serial++;
  const prefix = `bench${process.pid}x${serial}`;
  const a = newSegment("a");
  const b = newSegment("b");
  const peers: Peer[] = [];
  try {
    b.segment.topic("feed", { maxMessage: 64, depth: 1024, subscribers: 4, policy });
    const exporter = await peer(nearRuntime, ["bridge", b.name, nats.url, prefix, "export", "feed"]);
    peers.push(exporter);
    const importer = await peer(farRuntime, ["bridge", a.name, nats.url, prefix, "import", "feed"]);
    peers.push(importer);
    const subscriber = await peer(farRuntime, ["subscriber", a.name, "feed", count, wait]);
    peers.push(subscriber);
    const publisher = await peer(nearRuntime, ["publisher", b.name, "feed", count, wait]);
    peers.push(publisher);
    a.unlink();
    b.unlink();
    await subscriber.line(/^primed$/, 60_000);
    publisher.write("go\n");
    const result = await subscriberResult(subscriber);
    await publisher.exited(20_000);
    if (policy === "block" && (result.missed !== 0 || result.received !== count)) {
      throw new Error(`the block policy lost messages: ${result.received} of ${count} arrived`);
    }
    const stats = await bridgeStats(exporter);
    const object = (stats.objects as Array<Record<string, number>>)[0];
    // Warm-up and stop messages travel too: frames per record over all of them.
    detail.natsMessagesPerRecord = object.natsSent / Math.max(1, object.sent);
    detail.missed = result.missed;
    detail.received = result.received;
    const importerStats = await bridgeStats(importer);
    const imported = importerStats.objects as Array<Record<string, number>>;
    // Where the losses were counted: by the exporter (overwritten before it read them) or the importer.
    detail.lostAt = [object.missed, imported[0].missed];
    detail.cpuUs = [importerStats.cpuPerMessageUs as number, stats.cpuPerMessageUs as number];
    return result.rate;
  } finally {
    for (const p of peers) p.kill();
    a.unlink();
    b.unlink();
    a.segment.close();
    b.segment.close();
  }
}

/**
 * The bridged work queue: a producer on B -> queue "jobs" -> the exporting
 * bridge (pulled) -> NATS -> the importing bridge -> a consumer on A; the
 * consumer's msgs/s. Every message must arrive once (no fault, so none lost).
 */
async function bridgeQueueRate(detail: Detail): Promise<number> {
  serial++;
  const prefix = `bench${process.pid}x${serial}`;
  const a = newSegment("a");
  const b = newSegment("b");
  const peers: Peer[] = [];
  try {
    b.segment.queue("jobs", { slotSize: 64, slots: 1024 });
    const exporter = await peer(nearRuntime, ["bridge", b.name, nats.url, prefix, "export", "jobs"]);
    peers.push(exporter);
    const importer = await peer(farRuntime, ["bridge", a.name, nats.url, prefix, "import", "jobs"]);
    peers.push(importer);
    const consumer = await peer(farRuntime, ["consumer", a.name, "jobs", count, wait]);
    peers.push(consumer);
    const producer = await peer(nearRuntime, ["producer", b.name, "jobs", count, wait]);
    peers.push(producer);
    a.unlink();
    b.unlink();
    await consumer.line(/^primed$/, 60_000);
    producer.write("go\n");
    const result = await subscriberResult(consumer);
    await producer.exited(20_000);
    if (result.received !== count) {
      throw new Error(`the queue lost messages: ${result.received} of ${count} arrived`);
    }
    const stats = await bridgeStats(exporter);
    const object = (stats.objects as Array<Record<string, number>>)[0];
    detail.natsMessagesPerRecord = object.natsSent / Math.max(1, object.sent);
    detail.missed = result.missed;
    const importerStats = await bridgeStats(importer);
    detail.cpuUs = [importerStats.cpuPerMessageUs as number, stats.cpuPerMessageUs as number];
    return result.rate;
  } finally {
    for (const p of peers) p.kill();
    a.unlink();
    b.unlink();
    a.segment.close();
    b.segment.close();
  }
}

/** The raw baseline: one NATS publisher process, one subscriber process; the subscriber's msgs/s. */
async function rawTopicRate(detail: Detail): Promise<number> {
  serial++;
  const subject = `bench${process.pid}x${serial}.feed`;
  const peers: Peer[] = [];
  try {
    const subscriber = await peer(farRuntime, ["nats-subscriber", nats.url, subject, count]);
    peers.push(subscriber);
    const publisher = await peer(nearRuntime, ["nats-publisher", nats.url, subject, count]);
    peers.push(publisher);
    await subscriber.line(/^primed$/, 60_000);
    publisher.write("go\n");
    const result = await subscriberResult(subscriber);
    await publisher.exited(20_000);
    detail.missed = result.missed;
    detail.received = result.received;
    return result.rate;
  } finally {
    for (const p of peers) p.kill();
  }
}

interface Case {
  name: string;
  unit: "ns" | "msgs/s";
  /** Absent: a row that explains another (the hops), judged by nothing. */
  baseline?: true | string;
  run: (detail: Detail) => Promise<number[] | number>;
}

const cases: Case[] = [];
if (only.includes("rr")) {
  cases.push(
    { name: BRIDGE_RR, unit: "ns", baseline: RAW_RR, run: (d) => bridgeRoundTrips(d) },
    { name: RAW_RR, unit: "ns", baseline: true, run: (d) => rawRoundTrips(d) },
    { name: HOP_IMPORT, unit: "ns", run: () => hopRoundTrips("import") },
    { name: HOP_EXPORT, unit: "ns", run: () => hopRoundTrips("export") },
  );
}
if (only.includes("topic")) {
  for (const policy of policies) {
    cases.push({
      name: bridgeTopic(policy),
      unit: "msgs/s",
      baseline: RAW_TOPIC,
      run: (d) => bridgeTopicRate(policy, d),
    });
  }
}
if (only.includes("queue")) {
  cases.push({ name: BRIDGE_QUEUE, unit: "msgs/s", baseline: RAW_TOPIC, run: (d) => bridgeQueueRate(d) });
}
if (only.includes("topic") || only.includes("queue")) {
  cases.push({ name: RAW_TOPIC, unit: "msgs/s", baseline: true, run: (d) => rawTopicRate(d) });
}

const results = new Map<string, number[][]>(cases.map((c) => [c.name, []]));
const details = new Map<string, Detail[]>(cases.map((c) => [c.name, []]));
try {
  for (let r = 0; r < rounds; r++) {
    for (const [i, c] of cases.entries()) {
      progress(json, (r * cases.length + i) / (rounds * cases.length));
      const detail: Detail = {};
      const value = await c.run(detail);
      results.get(c.name)!.push(Array.isArray(value) ? value : [value]);
      details.get(c.name)!.push(detail);
    }
  }
} finally {
  await nats.stop();
  stopNats();
}
const loadAfter = loadavg();

const load = {
  before: loadBefore.map((l) => Number(l.toFixed(2))),
  after: loadAfter.map((l) => Number(l.toFixed(2))),
};
const rows: Row[] = cases.map((c) => {
  const roundDetails = details.get(c.name)!;
  const extra: Partial<Row> = {
    ...(c.baseline === undefined ? { diagnostic: true } : { baseline: c.baseline }),
    messageBytes: 64,
    runtimes: pair,
    wait,
    load,
  };
  if (c.unit === "ns") extra.roundTrips = trips;
  else extra.messages = count;
  const perRecord = roundDetails.map((d) => d.natsMessagesPerRecord).filter((v) => v !== undefined);
  if (perRecord.length > 0) extra.natsMessagesPerRecord = perRecord.map((v) => Number(v!.toPrecision(3)));
  const missed = roundDetails.map((d) => d.missed).filter((v) => v !== undefined);
  if (missed.length > 0) extra.missed = missed;
  const clientCpu = roundDetails.map((d) => d.clientCpuUs).filter((v) => v !== undefined);
  if (clientCpu.length > 0) extra.clientCpuUsPerTrip = clientCpu.map((v) => Number(v!.toPrecision(3)));
  const cpuUs = roundDetails.map((d) => d.cpuUs).filter((v) => v !== undefined);
  if (cpuUs.length > 0) {
    extra.bridgeCpuUsPerMessage = cpuUs.map(([importer, exporter]) => ({
      importer: Number(importer?.toPrecision(3)),
      exporter: Number(exporter?.toPrecision(3)),
    }));
  }
  const lostAt = roundDetails.map((d) => d.lostAt).filter((v) => v !== undefined);
  if (lostAt.length > 0) {
    extra.missedByBridge = lostAt.map(([exporter, importer]) => ({ exporter, importer }));
  }
  // The hops explain the round trip and are judged by nothing: a bench of their own, so that
  // `wshm bench` does not compare them with the baselines of "bridge".
  const bench = c.baseline === undefined ? "bridge-hops" : "bridge";
  const row = latencyRow(bench, c.name, c.unit, results.get(c.name)!, extra);
  if (c.unit === "msgs/s") {
    delete row.p50;
    delete row.p90;
    delete row.p99;
  }
  return row;
});
const byName = (name: string) => rows.find((row) => row.case === name);
const verdicts: Array<Verdict | undefined> = [
  judgeLatency("the bridge adds at most 10% to a NATS round trip", byName(BRIDGE_RR), byName(RAW_RR), {
    atMost: 1.1,
  }),
  // "block" only: under "overwrite" the publisher laps the exporting bridge and most messages are
  // dropped (counted), so its rate is of the few delivered, not comparable with a lossless stream.
  judgeRate(
    "bridged topic (block policy) at least 0.8x the raw NATS publish/subscribe rate",
    byName(bridgeTopic("block")),
    byName(RAW_TOPIC),
    0.8,
  ),
];
printRows(rows, json);
if (!json) {
  const us = (ns: number) => `${(ns / 1000).toFixed(1)} µs`;
  for (const row of rows) {
    if (row.unit === "ns") console.log(`  ${row.case}: p50 ${us(row.p50!)}, p99 ${us(row.p99!)}`);
  }
  const [bridged, raw, hopA, hopB] = [BRIDGE_RR, RAW_RR, HOP_IMPORT, HOP_EXPORT].map(byName);
  if (bridged && raw && hopA && hopB) {
    const parts = raw.median + hopA.median + hopB.median;
    console.log(
      `  taken apart (medians): raw NATS ${us(raw.median)} + importer's hop ${
        us(hopA.median)
      } + exporter's hop ` +
        `${us(hopB.median)} = ${us(parts)}; bridged ${us(bridged.median)}, the rest ${
          us(bridged.median - parts)
        }`,
    );
  }
  for (const row of rows) {
    if (row.clientCpuUsPerTrip !== undefined) {
      console.log(
        `  ${row.case}: client CPU per round trip ${(row.clientCpuUsPerTrip as number[]).join(" ")} µs`,
      );
    }
    if (row.natsMessagesPerRecord !== undefined || row.missed !== undefined || row.bridgeCpuUsPerMessage) {
      console.log(
        `  ${row.case}: rounds ${(row.rounds as number[]).join(" ")}` +
          (row.natsMessagesPerRecord
            ? `; NATS messages per record ${(row.natsMessagesPerRecord as number[]).join(" ")}`
            : "") +
          (row.missed
            ? `; ${row.unit === "ns" ? "failed calls" : "missed"} ${(row.missed as number[]).join(" ")}`
            : "") +
          (row.missedByBridge
            ? ` (counted by the exporter/importer: ${
              (row.missedByBridge as Array<{ exporter: number; importer: number }>).map((m) =>
                `${m.exporter}/${m.importer}`
              ).join(" ")
            })`
            : "") +
          (row.bridgeCpuUsPerMessage
            ? `; bridge CPU per message (importer/exporter): ${
              (row.bridgeCpuUsPerMessage as Array<{ importer: number; exporter: number }>).map((c) =>
                `${c.importer}/${c.exporter} µs`
              ).join(", ")
            }`
            : ""),
      );
    }
  }
  console.log(`  processes: ${pair} (client/publisher side -> server/subscriber side), wait ${wait}`);
  console.log(
    `  load average (1, 5, 15 min): before ${load.before.join(" ")}, after ${load.after.join(" ")}`,
  );
}
printVerdicts(verdicts, json, runtime);
process.exit(0);
