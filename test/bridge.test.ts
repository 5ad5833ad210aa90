// The bridge (wshm/bridge) end to end: two "hosts" are two segments, each with
// its own bridge process (test/fixtures/bridge.ts), both connected to one real
// nats-server (test/nats_server.ts); the parties are processes under Deno,
// Node and Bun, or this process. Faults are real: nats-server and bridges are
// SIGKILLed and restarted, and a raw NATS client plays the hostile peer.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect, headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { decodeText, type Queue, Segment, type Topic, type WshmError } from "../ts/mod.ts";
import { Bridge, type BridgedObjectStats, type BridgeStats } from "../ts/bridge.ts";
import { decodeFrame, FRAME_HEADER, FrameBuilder, RECORD_HEADER } from "../ts/bridge_wire.ts";
import { topicWindow } from "../ts/bridge_topic.ts";
import {
  type Child,
  cleanup,
  type Runtime,
  runtime,
  RUNTIMES,
  startFixture,
  uniqueName,
  within,
} from "./helpers.ts";
import { type NatsServer, startNatsServer } from "./nats_server.ts";
import { bridgeMessage, checkBridgeMessage, sleep, until } from "./fixtures/bridge_common.ts";

const test = suite(`Bridge (${runtime})`);

// Everything a test started, removed after it whether it passed or not.
const children: Child[] = [];
const natsServers: NatsServer[] = [];
const natsClients: NatsConnection[] = [];
test.after.each(async () => {
  for (const nc of natsClients.splice(0)) await nc.close().catch(() => {});
  for (const child of children.splice(0)) {
    child.kill("SIGKILL");
    await within(child.done, 10_000, "a killed process exits").catch(() => {});
  }
  for (const server of natsServers.splice(0)) await server.stop();
  cleanup();
});
test.after(cleanup);

function spawn(rt: Runtime, fixture: string, args: string[], timeoutMs = 120_000): Child {
  const child = startFixture(rt, fixture, args, timeoutMs);
  children.push(child);
  return child;
}

async function nats(): Promise<NatsServer> {
  const server = await startNatsServer();
  natsServers.push(server);
  return server;
}

async function rawClient(url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url, timeout: 5000 });
  natsClients.push(nc);
  return nc;
}

/** A host: a segment created here (removed by cleanup) and its name for the processes. */
function host(tag: string, size = 8 << 20): Segment {
  return Segment.create(uniqueName(`bridge-${tag}`), { size });
}

interface BridgeProcess {
  child: Child;
  /** The bridge's stats, asked for now (SIGUSR2). */
  stats(): Promise<BridgeStats>;
  /** Polls the stats until `accept` holds; throws with the last stats after `timeoutMs`. */
  until(accept: (s: BridgeStats) => boolean, what: string, timeoutMs?: number): Promise<BridgeStats>;
  /** SIGTERM: the bridge closes; resolves with its final stats once the process exited 0. */
  stop(): Promise<BridgeStats>;
}

interface BridgeArgs {
  exports?: string[];
  imports?: string[];
  timeoutMs?: number;
}

function bridgeArgs(segment: string, url: string, o: BridgeArgs): string[] {
  const args = [segment, url];
  if (o.exports) args.push(`export=${o.exports.join(",")}`);
  if (o.imports) args.push(`import=${o.imports.join(",")}`);
  if (o.timeoutMs !== undefined) args.push(`timeout=${o.timeoutMs}`);
  return args;
}

/** Starts a bridge process under the suite's runtime (or `rt`) and waits for its "ready". */
async function startBridge(
  segment: string,
  url: string,
  o: BridgeArgs,
  rt: Runtime = runtime,
): Promise<BridgeProcess> {
  const child = spawn(rt, "bridge", bridgeArgs(segment, url, o));
  const first = await child.line(/^(ready|error)/, 30_000);
  if (first !== "ready") throw new Error(`the bridge did not start: ${first}`);
  let asked = 0;
  const stats = async () => {
    const n = ++asked;
    child.kill("SIGUSR2");
    const line = await child.line(new RegExp(`^stats ${n} `), 10_000);
    return JSON.parse(line.slice(`stats ${n} `.length)) as BridgeStats;
  };
  return {
    child,
    stats,
    async until(accept, what, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await stats();
        if (accept(s)) return s;
        if (Date.now() > deadline) {
          throw new Error(`bridge of ${segment}: ${what} not within ${timeoutMs} ms: ${JSON.stringify(s)}`);
        }
        await sleep(100);
      }
    },
    async stop() {
      child.kill("SIGTERM");
      const line = await child.line(/^final /, 20_000);
      const run = await within(child.done, 10_000, "the bridge exits after SIGTERM");
      assert.is(run.code, 0, `the bridge exits 0 after SIGTERM:\n${run.stderr}`);
      // A warning here (Node's MaxListenersExceededWarning was one) means a leak in a long-running bridge.
      assert.not.match(run.stderr, /warning/i, `the bridge printed nothing on stderr:\n${run.stderr}`);
      return JSON.parse(line.slice("final ".length)) as BridgeStats;
    },
  };
}

/** The stats of the bridged object `name` (an empty record if the bridge does not list it yet). */
function objectOf(
  s: BridgeStats,
  name: string,
): BridgedObjectStats & { importers?: number; unconfirmed?: number } {
  return s.objects.find((o) => o.name === name) ??
    {
      name,
      kind: "unknown",
      direction: "import",
      state: "absent",
      sent: 0,
      received: 0,
      natsSent: 0,
      natsReceived: 0,
      missed: 0,
      malformed: 0,
      errors: 0,
    };
}

const active = (name: string) => (s: BridgeStats) =>
  s.connection === "connected" && objectOf(s, name).state === "active";

/** How a call ended: "answer <text>" or the error's code, with the time it took. */
async function call(
  segment: Segment,
  channel: string,
  request: string,
  timeoutMs: number,
): Promise<{ outcome: string; ms: number }> {
  const started = Date.now();
  try {
    const response = await segment.channel(channel, { create: false }).requestAsync(request, { timeoutMs });
    return { outcome: `answer ${decodeText(response)}`, ms: Date.now() - started };
  } catch (error) {
    return { outcome: (error as WshmError).code ?? String(error), ms: Date.now() - started };
  }
}

/**
 * Consumes `queue` in this process until stopped, checking each message;
 * `seqs` grows with the numbers as they come, and `stop()` resolves once the
 * loop has ended (rejecting with what the loop threw, if it failed).
 */
function consumeInBackground(queue: Queue, slotSize: number): { seqs: number[]; stop(): Promise<void> } {
  const seqs: number[] = [];
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      try {
        seqs.push(checkBridgeMessage(await queue.receiveAsync({ timeoutMs: 200 }), slotSize));
      } catch (error) {
        if ((error as WshmError).code !== "Timeout") throw error;
      }
    }
  })();
  return {
    seqs,
    stop() {
      stopped = true;
      return within(running, 5000, "the consumer in this process stops");
    },
  };
}

/** Calls until one is answered (each within `callTimeoutMs`); the answer's outcome, or a throw after 20 s. */
function callUntilAnswered(
  segment: Segment,
  channel: string,
  request: string,
  what: string,
  callTimeoutMs: number,
): Promise<string> {
  return until(
    async () => {
      const c = await call(segment, channel, request, callTimeoutMs);
      if (c.outcome.startsWith("answer")) return c.outcome;
    },
    what,
    20_000,
  );
}

/** Publishes bridge messages `from` to `to - 1` in order, pausing 2 ms every tenth. */
async function publishNumbered(topic: Topic, maxMessage: number, from: number, to: number): Promise<void> {
  for (let seq = from; seq < to; seq++) {
    await topic.publishAsync(bridgeMessage(seq, maxMessage), { timeoutMs: 30_000 });
    if (seq % 10 === 0) await sleep(2);
  }
}

// ---------------------------------------------------------------------------
// 1. Channels

test("channel: concurrent clients under Deno, Node and Bun on host A each get their own byte-exact answers from a Node server on host B", async () => {
  const server = await nats();
  using a = host("a");
  using b = host("b");
  b.channel("rpc", { capacity: 2048, clients: 4 });
  const serving = spawn("node", "channel_server", [b.name, "rpc", "async", "adaptive"]);
  await serving.line(/^serving/, 30_000);
  const exporter = await startBridge(b.name, server.url, { exports: ["rpc"] });
  const importer = await startBridge(a.name, server.url, { imports: ["rpc"] });
  await importer.until(active("rpc"), "the import is active");
  assert.is(
    a.channel("rpc", { create: false }).capacity,
    2048,
    "host A's channel is created as host B described it",
  );
  const perClient = 120;
  // Each client's requests have bytes derived from its id, of every length up to the capacity; each checks
  // that its response is its own request reversed.
  const clients = RUNTIMES.map((rt, i) =>
    spawn(rt, "channel_client", [a.name, "rpc", String(perClient), String(i + 1), "async", "adaptive"])
  );
  const runs = await Promise.all(clients.map((c, i) => within(c.done, 90_000, `client ${RUNTIMES[i]}`)));
  runs.forEach((run, i) => {
    assert.is(run.code, 0, `the ${RUNTIMES[i]} client: ${run.stdout}${run.stderr}`);
    assert.match(run.stdout, `ok ${i + 1} ${perClient}`, `the ${RUNTIMES[i]} client got its own answers`);
  });
  const total = perClient * RUNTIMES.length;
  const imported = objectOf(await importer.stats(), "rpc");
  const exported = objectOf(await exporter.stats(), "rpc");
  assert.equal(
    [imported.received, imported.sent, imported.errors, imported.malformed],
    [total, total, 0, 0],
    "importer counters",
  );
  assert.equal(
    [exported.received, exported.sent, exported.errors, exported.malformed],
    [total, total, 0, 0],
    "exporter counters",
  );
  await importer.stop();
  await exporter.stop();
});

test("channel: a remote handler failure is RemoteError, a killed remote server PeerDied, no exporter NoServer, the bridge's timeout Timeout, NATS down Unavailable", async () => {
  const server = await nats();
  using a = host("a");
  using b = host("b");
  b.channel("rpc", { capacity: 256, clients: 4 });
  // Exists here and nowhere else: the importing bridge serves it, and no bridge exports it.
  a.channel("ghost", { capacity: 256, clients: 4 });
  const serving = spawn("node", "channel_server", [b.name, "rpc", "async", "adaptive"]);
  await serving.line(/^serving/, 30_000);
  const exporter = await startBridge(b.name, server.url, { exports: ["rpc"] });
  const importer = await startBridge(a.name, server.url, { imports: ["rpc", "ghost"], timeoutMs: 1500 });
  await importer.until((s) => active("rpc")(s) && active("ghost")(s), "both imports are active");
  assert.equal((await call(a, "rpc", "hello", 10_000)).outcome, "answer olleh", "a plain call");

  assert.equal((await call(a, "rpc", "fail", 10_000)).outcome, "RemoteError", "the remote handler failed");

  const slow = await call(a, "rpc", "slow:4000", 20_000);
  assert.is(slow.outcome, "Timeout", "the bridge's requestTimeoutMs (1500) ended the call");
  assert.ok(slow.ms < 10_000, `the bridge's timeout, not the caller's 20 s, ended it (${slow.ms} ms)`);
  // The server is still busy with the slow request (whose answer has nobody to go to): until it is
  // done, calls time out at the bridge as well; then it serves again.
  const again = await until(
    async () => {
      const c = await call(a, "rpc", "again", 10_000);
      if (c.outcome !== "Timeout") return c.outcome;
    },
    "a call served after the slow one",
    20_000,
  );
  assert.is(again, "answer niaga", "served after the timeout");

  const ghost = await call(a, "ghost", "anyone?", 10_000);
  assert.is(ghost.outcome, "NoServer", "no bridge exports it");
  assert.ok(ghost.ms < 5000, `NoServer at once (${ghost.ms} ms)`);

  const hung = call(a, "rpc", "hang", 20_000);
  await serving.line(/^hanging/, 10_000);
  serving.kill("SIGKILL");
  const died = await within(hung, 25_000, "the call whose remote server was killed");
  assert.is(died.outcome, "PeerDied", "the remote server died with the request");
  assert.ok(died.ms < 20_000, `before the caller's timeout (${died.ms} ms)`);

  await server.kill();
  await importer.until((s) => s.connection !== "connected", "the importer sees NATS gone");
  const down = await call(a, "rpc", "nats?", 5000);
  assert.is(down.outcome, "Unavailable", "NATS is down");
  assert.ok(down.ms < 5000, `within the caller's timeout (${down.ms} ms)`);

  const stats = objectOf(await importer.stats(), "rpc");
  assert.ok(stats.errors >= 4, `the importer counted the failed calls (${stats.errors})`);
  assert.is(stats.malformed, 0, "nothing malformed");
  await importer.stop();
  await exporter.stop();
});

// ---------------------------------------------------------------------------
// 2. Topics

interface SubscriberResult {
  received: number;
  first: number;
  last: number;
  gaps: number;
  lost: number;
  localMissed: number;
  peerDied: number;
}

/** The JSON line a topic subscriber fixture ends with, once it exited 0. */
async function subscriberResult(child: Child, what: string): Promise<SubscriberResult> {
  const run = await within(child.done, 90_000, what);
  assert.is(run.code, 0, `${what} exits 0:\n${run.stdout}\n${run.stderr}`);
  const line = run.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(line) as SubscriberResult;
}

/**
 * Subscribes now, then receives messages numbered up to `count - 1` in this
 * process, checking each; resolves with the numbers in order.
 */
function receiveAll(segment: Segment, name: string, count: number, maxLength: number) {
  const sub = segment.topic(name, { create: false }).subscribe();
  const seqs: number[] = [];
  return (async () => {
    while (seqs.length === 0 || seqs[seqs.length - 1] < count - 1) {
      const seq = checkBridgeMessage(await sub.receiveAsync({ timeoutMs: 30_000 }), maxLength);
      if (seqs.length > 0 && seq <= seqs[seqs.length - 1]) {
        throw new Error(`out of order: ${seq} after ${seqs[seqs.length - 1]}`);
      }
      seqs.push(seq);
    }
    const missed = sub.missed;
    sub.close();
    return { seqs, missed };
  })();
}

test("topic, block policy: subscribers on hosts A and B get every message in order, byte-exact; a stalled subscriber on A makes B's publisher wait, bounded by the window", async () => {
  const server = await nats();
  using a = host("a");
  using b = host("b");
  const maxMessage = 8192, depth = 64, count = 4000, stallAfter = 300;
  const topic = b.topic("prices", { maxMessage, depth });
  const window = topicWindow(maxMessage, depth);
  const exporter = await startBridge(b.name, server.url, { exports: ["prices"] });
  const importer = await startBridge(a.name, server.url, { imports: ["prices"] });
  await importer.until(active("prices"), "the import is active");
  const remote = spawn(runtime, "bridge_topic_sub", [
    a.name,
    "prices",
    String(count),
    String(maxMessage),
    `stall=${stallAfter}:6000`,
  ]);
  await remote.line(/^ready/, 30_000);
  const local = receiveAll(b, "prices", count, maxMessage);
  await exporter.until(
    (s) => objectOf(s, "prices").importers === 1,
    "the exporter hears the importer's credit",
  );
  const publishing = (async () => {
    for (let seq = 0; seq < count; seq++) {
      await topic.publishAsync(bridgeMessage(seq, maxMessage), { timeoutMs: 30_000 });
    }
  })();
  await within(remote.line(/^stalling/, 30_000), 35_000, "the subscriber on A stalls");
  // While it stalls, the publisher fills what the pipeline may hold, then waits.
  await sleep(3000);
  const before = topic.stats().published;
  await sleep(1500);
  const after = topic.stats().published;
  const bound = stallAfter + 2 * window + 2 * depth;
  assert.is(
    after,
    before,
    `B's publisher waits while A's subscriber stalls (published ${before}, then ${after})`,
  );
  assert.ok(after < count, `it has not published everything (${after} of ${count})`);
  assert.ok(
    after <= bound,
    `ahead of the stalled subscriber by at most two windows and two depths (${after} <= ${bound})`,
  );
  await within(publishing, 60_000, "the publisher finishes once the subscriber resumes");
  const onA = await subscriberResult(remote, "the subscriber on A");
  assert.equal(
    [onA.received, onA.first, onA.last, onA.gaps, onA.localMissed],
    [count, 0, count - 1, 0, 0],
    "host A got every message",
  );
  const onB = await within(local, 30_000, "the subscriber on B");
  assert.is(onB.seqs.length, count, "host B got every message");
  assert.is(onB.missed, 0);
  const imported = objectOf(await importer.stats(), "prices");
  const exported = objectOf(await exporter.stats(), "prices");
  assert.equal(
    [imported.received, imported.missed, imported.malformed],
    [count, 0, 0],
    "importer: every message, none missed",
  );
  assert.equal(
    [exported.received, exported.sent, exported.missed],
    [count, count, 0],
    "exporter: every message sent",
  );
  await importer.stop();
  await exporter.stop();
});

test("topic, overwrite policy: nobody waits, and what the bridges lose is counted: received + missed accounts for every message", async () => {
  const server = await nats();
  using a = host("a");
  using b = host("b");
  const maxMessage = 512, depth = 8, count = 5000;
  const topic = b.topic("ticks", { maxMessage, depth, policy: "overwrite" });
  const exporter = await startBridge(b.name, server.url, { exports: ["ticks"] });
  const importer = await startBridge(a.name, server.url, { imports: ["ticks"] });
  await importer.until(active("ticks"), "the import is active");
  const remote = spawn(runtime, "bridge_topic_sub", [a.name, "ticks", String(count), String(maxMessage)]);
  await remote.line(/^ready/, 30_000);
  // Message 0 first, alone: once A's subscriber has it, the whole path is up and numbering starts at 0.
  topic.publish(bridgeMessage(0, maxMessage));
  await within(remote.line(/^first 0$/, 20_000), 25_000, "message 0 reaches host A");
  let seq = 1;
  // Paced, a few messages per millisecond, so that many go through (and some are skipped anyway).
  const paced = async (n: number) => {
    for (const end = seq + n; seq < end; seq++) {
      topic.publish(bridgeMessage(seq, maxMessage));
      if (seq % 4 === 0) await sleep(1);
    }
  };
  await paced(1500);
  // The exporting bridge stopped for a moment: the publisher does not wait for it, and it skips.
  exporter.child.kill("SIGSTOP");
  try {
    for (const end = seq + 1500; seq < end; seq++) topic.publish(bridgeMessage(seq, maxMessage));
  } finally {
    exporter.child.kill("SIGCONT");
  }
  await paced(count - seq);
  const onA = await subscriberResult(remote, "the subscriber on A");
  const imported = await importer.until(
    (s) => objectOf(s, "ticks").received + objectOf(s, "ticks").missed >= count,
    "the importer accounts for every message",
  );
  const i = objectOf(imported, "ticks");
  const e = objectOf(await exporter.stats(), "ticks");
  assert.is(i.received + i.missed, count, `importer: received ${i.received} + missed ${i.missed}`);
  assert.ok(i.missed >= 1500 - depth, `the messages the stopped exporter skipped are counted (${i.missed})`);
  assert.is(e.sent + e.missed, count, `exporter: sent ${e.sent} + skipped or torn ${e.missed}`);
  assert.is(i.missed, e.missed, "the importer counts exactly the exporter's gaps (no NATS loss here)");
  assert.is(i.malformed, 0);
  assert.is(onA.last, count - 1, "host A got the newest message");
  assert.is(
    onA.received + onA.localMissed,
    i.received,
    "A's subscriber got or counted everything the importer published",
  );
  assert.is(onA.first + onA.lost + onA.received, count, "every message number is received or in a gap");
  await importer.stop();
  await exporter.stop();
});

test("topic, overwrite policy: a publisher that laps the exporting bridge never gets a torn message across", async () => {
  const server = await nats();
  using a = host("a");
  using b = host("b");
  // Two records of large messages: the publisher overwrites the one the exporting bridge copies, often.
  const maxMessage = 16384, depth = 2, count = 6000;
  const topic = b.topic("lapped", { maxMessage, depth, policy: "overwrite" });
  const exporter = await startBridge(b.name, server.url, { exports: ["lapped"] });
  const importer = await startBridge(a.name, server.url, { imports: ["lapped"] });
  await importer.until(active("lapped"), "the import is active");
  const remote = spawn(runtime, "bridge_topic_sub", [a.name, "lapped", String(count), String(maxMessage)]);
  await remote.line(/^ready/, 30_000);
  topic.publish(bridgeMessage(0, maxMessage));
  await within(remote.line(/^first 0$/, 20_000), 25_000, "message 0 reaches host A");
  for (let seq = 1; seq < count; seq++) {
    topic.publish(bridgeMessage(seq, maxMessage));
    if (seq % 200 === 0) await sleep(1);
  }
  // The subscriber checks every message byte-exact: a torn one fails it.
  const onA = await subscriberResult(remote, "the subscriber on A");
  const i = objectOf(
    await importer.until(
      (s) => objectOf(s, "lapped").received + objectOf(s, "lapped").missed >= count,
      "the importer accounts for every message",
    ),
    "lapped",
  );
  const e = objectOf(await exporter.stats(), "lapped");
  assert.is(i.received + i.missed, count, `importer: received ${i.received} + missed ${i.missed}`);
  assert.is(e.sent + e.missed, count, `exporter: sent ${e.sent} + skipped or torn ${e.missed}`);
  assert.is(
    onA.received + onA.localMissed,
    i.received,
    "A's subscriber got or counted everything the importer published",
  );
  await importer.stop();
  await exporter.stop();
});

// ---------------------------------------------------------------------------
// 3. Queues

test("queue: producers on host A, consumers on A and B share the work: every message consumed exactly once, and the bridges' counters agree", async () => {
  const server = await nats();
  using a = host("a");
  using b = host("b");
  const slotSize = 1024, count = 3000;
  const jobs = a.queue("jobs", { slotSize, slots: 64 });
  const exporter = await startBridge(a.name, server.url, { exports: ["jobs"] });
  const importer = await startBridge(b.name, server.url, { imports: ["jobs"] });
  await importer.until(active("jobs"), "the import is active");
  const remote = spawn(runtime, "bridge_queue_consumer", [b.name, "jobs", String(slotSize)]);
  await remote.line(/^ready/, 30_000);
  const consumer = consumeInBackground(jobs, slotSize);
  const onA = consumer.seqs;
  const half = count / 2;
  const producers = [0, half].map((from) =>
    spawn(runtime, "bridge_queue_producer", [a.name, "jobs", String(from), String(half), String(slotSize)])
  );
  for (const p of producers) {
    const run = await within(p.done, 60_000, "a producer");
    assert.is(run.code, 0, `a producer exits 0: ${run.stderr}`);
  }
  // Everything sent is taken: by A's consumer, or pulled into B's queue and taken there.
  const bQueue = b.queue("jobs", { create: false });
  const final = await importer.until(
    (s) =>
      onA.length + objectOf(s, "jobs").received === count && bQueue.stats().length === 0 &&
      jobs.stats().length === 0,
    "every message is consumed",
    60_000,
  );
  remote.kill("SIGTERM");
  const run = await within(remote.done, 20_000, "B's consumer stops");
  await consumer.stop();
  assert.is(run.code, 0, `B's consumer: ${run.stdout}${run.stderr}`);
  const onB = JSON.parse(run.stdout.split("\n").find((l) => l.startsWith("got "))!.slice(4)) as number[];
  const seen = new Set<number>();
  for (const seq of [...onA, ...onB]) {
    assert.not.ok(seen.has(seq), `message ${seq} was consumed twice`);
    seen.add(seq);
  }
  assert.is(seen.size, count, `every message was consumed (${onA.length} on A, ${onB.length} on B)`);
  assert.ok(
    onA.length > 0 && onB.length > 0,
    `both hosts took work (${onA.length} on A, ${onB.length} on B)`,
  );
  const i = objectOf(final, "jobs");
  assert.is(i.received, onB.length, "the importer put into B's queue what B's consumer took");
  const e = objectOf(
    await exporter.until((s) => objectOf(s, "jobs").unconfirmed === 0, "every batch acknowledged"),
    "jobs",
  );
  assert.is(e.sent, i.received, `exporter sent ${e.sent}, importer received ${i.received}`);
  assert.equal(
    [e.missed, e.errors, e.malformed, i.missed, i.malformed],
    [0, 0, 0, 0, 0],
    "nothing lost or malformed",
  );
  await importer.stop();
  await exporter.stop();
});

// ---------------------------------------------------------------------------
// 4. Faults

test("faults: nats-server killed and restarted mid-run: calls fail with Unavailable or Timeout within their timeout, then the bridges reconnect and traffic resumes", async () => {
  const server = await nats();
  using a = host("a");
  using b = host("b");
  b.channel("rpc", { capacity: 256, clients: 4 });
  const maxMessage = 256;
  const feed = b.topic("feed", { maxMessage, depth: 32 });
  const serving = spawn("node", "channel_server", [b.name, "rpc", "async", "adaptive"]);
  await serving.line(/^serving/, 30_000);
  const exporter = await startBridge(b.name, server.url, { exports: ["rpc", "feed"] });
  const importer = await startBridge(a.name, server.url, { imports: ["rpc", "feed"], timeoutMs: 2000 });
  await importer.until((s) => active("rpc")(s) && active("feed")(s), "both imports are active");
  await exporter.until((s) => objectOf(s, "feed").importers === 1, "the exporter hears the importer");
  assert.is((await call(a, "rpc", "before", 5000)).outcome, "answer erofeb");
  const count = 1500;
  const received = receiveAll(a, "feed", count, maxMessage);
  let published = 0;
  const publishing = (async () => {
    for (; published < count; published++) {
      await feed.publishAsync(bridgeMessage(published, maxMessage), { timeoutMs: 30_000 });
      if (published % 10 === 0) await sleep(5);
    }
  })();
  await until(() => published > 200 || undefined, "some messages published");
  await server.kill();
  await importer.until((s) => s.connection !== "connected", "the importer sees NATS gone");
  for (let n = 0; n < 3; n++) {
    const c = await call(a, "rpc", "outage", 3000);
    assert.ok(
      c.outcome === "Unavailable" || c.outcome === "Timeout",
      `a call during the outage: ${c.outcome}`,
    );
    assert.ok(c.ms < 4000, `it ends within its timeout (${c.ms} ms)`);
  }
  await sleep(500);
  await server.restart();
  for (const bridge of [importer, exporter]) {
    await bridge.until((s) => s.connection === "connected" && s.reconnects >= 1, "reconnected", 30_000);
  }
  const after = await callUntilAnswered(a, "rpc", "after", "a call after the restart", 3000);
  assert.is(after, "answer retfa", "calls are served again");
  await within(publishing, 60_000, "the publisher finishes");
  const got = await within(received, 60_000, "host A receives up to the last message");
  const i = objectOf(await importer.stats(), "feed");
  assert.is(got.seqs[got.seqs.length - 1], count - 1, "the last message arrived");
  assert.is(
    got.seqs.length + i.missed,
    count,
    `received ${got.seqs.length} + missed ${i.missed} by the importer`,
  );
  await importer.stop();
  await exporter.stop();
});

test("faults: an importing bridge SIGKILLed mid-run costs its local client and subscriber PeerDied, never a hang; a restarted bridge takes over and traffic resumes", async () => {
  const server = await nats();
  using a = host("a");
  using b = host("b");
  b.channel("rpc", { capacity: 256, clients: 4 });
  const maxMessage = 512, count = 1500;
  const feed = b.topic("feed", { maxMessage, depth: 32 });
  const serving = spawn("node", "channel_server", [b.name, "rpc", "async", "adaptive"]);
  await serving.line(/^serving/, 30_000);
  const exporter = await startBridge(b.name, server.url, { exports: ["rpc", "feed"] });
  const args = { imports: ["rpc", "feed"] };
  const first = await startBridge(a.name, server.url, args);
  await first.until((s) => active("rpc")(s) && active("feed")(s), "both imports are active");
  const remote = spawn(runtime, "bridge_topic_sub", [a.name, "feed", String(count), String(maxMessage)]);
  await remote.line(/^ready/, 30_000);
  await exporter.until((s) => objectOf(s, "feed").importers === 1, "the exporter hears the importer");
  const publish = (from: number, to: number) => publishNumbered(feed, maxMessage, from, to);
  await publish(0, 300);
  await first.until((s) => objectOf(s, "feed").received === 300, "the first bridge published 300 on A");
  const pending = call(a, "rpc", "slow:3000", 20_000);
  await sleep(500);
  first.child.kill("SIGKILL");
  const died = await within(pending, 25_000, "the call whose bridge was killed");
  assert.is(died.outcome, "PeerDied", "the local client sees its server (the bridge) die");
  assert.ok(died.ms < 20_000, `before the caller's timeout (${died.ms} ms)`);
  await within(
    remote.line(/^peerDied$/, 30_000),
    35_000,
    "the subscriber on A sees its publisher (the bridge) die",
  );
  // Published while host A has no bridge: lost for A (the exporter stops waiting for a silent importer).
  await publish(300, 500);
  const second = await startBridge(a.name, server.url, args);
  await second.until((s) => active("rpc")(s) && active("feed")(s), "the new bridge's imports are active");
  const logged = await second.child.output(/took the bridge role/, 10_000);
  assert.match(
    logged,
    "took the publisher role over from a dead bridge",
    "it took the topic's publisher role over",
  );
  assert.match(logged, "took the server role over from a dead bridge", "and the channel's server role");
  await exporter.until(
    (s) => (objectOf(s, "feed").importers ?? 0) >= 1,
    "the exporter hears the new importer",
  );
  const again = await callUntilAnswered(a, "rpc", "again", "a call through the new bridge", 5000);
  assert.is(again, "answer niaga");
  await publish(500, count);
  const onA = await subscriberResult(remote, "the subscriber on A");
  assert.ok(onA.peerDied >= 1, "PeerDied was seen");
  assert.is(onA.last, count - 1, "the last message arrived through the new bridge");
  assert.ok(
    onA.received >= 300 + (count - 500),
    `everything before the kill and after the restart arrived (${onA.received})`,
  );
  await second.stop();
  await exporter.stop();
});

test("faults: an exporting bridge SIGKILLed mid-run: the call it carried ends with Timeout, later calls NoServer at once; B's block publisher and producer never wait for it; nothing is delivered twice; a restarted exporter takes over and traffic resumes", async () => {
  const server = await nats();
  using a = host("a");
  using b = host("b");
  b.channel("rpc", { capacity: 256, clients: 4 });
  const maxMessage = 256, count = 1200, slotSize = 256, jobsCount = 1500;
  const feed = b.topic("feed", { maxMessage, depth: 32, policy: "block" });
  const jobs = b.queue("jobs", { slotSize, slots: 64 });
  const serving = spawn("node", "channel_server", [b.name, "rpc", "async", "adaptive"]);
  await serving.line(/^serving/, 30_000);
  const exportArgs = { exports: ["rpc", "feed", "jobs"] };
  const first = await startBridge(b.name, server.url, exportArgs);
  const importer = await startBridge(a.name, server.url, {
    imports: ["rpc", "feed", "jobs"],
    timeoutMs: 4000,
  });
  await importer.until(
    (s) => active("rpc")(s) && active("feed")(s) && active("jobs")(s),
    "the imports are active",
  );
  await first.until((s) => objectOf(s, "feed").importers === 1, "the exporter hears the importer");
  const received = receiveAll(a, "feed", count, maxMessage);

  // The queue: produced on B all along (through the fault), consumed on A.
  const consumer = consumeInBackground(a.queue("jobs", { create: false }), slotSize);
  const onA = consumer.seqs;
  let produced = 0;
  const producing = (async () => {
    for (; produced < jobsCount; produced++) {
      await jobs.sendAsync(bridgeMessage(produced, slotSize), { timeoutMs: 60_000 });
      if (produced % 10 === 0) await sleep(3);
    }
  })();

  const publish = (from: number, to: number) => publishNumbered(feed, maxMessage, from, to);
  await publish(0, 300);
  await importer.until((s) => objectOf(s, "feed").received === 300, "A's bridge published 300");
  await until(() => onA.length >= 200 || undefined, "A consumed some of B's queue");
  assert.is((await call(a, "rpc", "before", 5000)).outcome, "answer erofeb");

  // The kill, with a call on its way through the exporter (answered after 1.5 s if it lived).
  const pending = call(a, "rpc", "slow:1500", 20_000);
  await sleep(300);
  first.child.kill("SIGKILL");
  const lost = await within(pending, 25_000, "the call the killed exporter carried");
  assert.is(lost.outcome, "Timeout", "nobody answers it: the importer's request timeout (4 s) ends it");
  assert.ok(lost.ms < 10_000, `within the request timeout, not the caller's 20 s (${lost.ms} ms)`);
  const none = await call(a, "rpc", "anyone?", 5000);
  assert.is(none.outcome, "NoServer", "no bridge exports it now");
  assert.ok(none.ms < 3000, `NoServer at once (${none.ms} ms)`);
  // B's publisher (block policy) does not wait for the dead exporter past the reap of its subscriber record.
  await within(publish(300, 500), 40_000, "B's block publisher publishes past the dead exporter");

  const second = await startBridge(b.name, server.url, exportArgs);
  const logged = await second.child.output(/took the bridge role/, 10_000);
  assert.match(logged, "from a bridge that died", "the new exporter took the bridge role over");
  await second.until((s) => objectOf(s, "feed").importers === 1, "the new exporter hears the importer");
  const again = await callUntilAnswered(a, "rpc", "again", "a call through the new exporter", 5000);
  assert.is(again, "answer niaga", "calls are served again");
  await publish(500, count);
  const got = await within(received, 60_000, "host A receives up to the last message");
  assert.is(got.seqs[got.seqs.length - 1], count - 1, "the last message arrived through the new exporter");
  assert.ok(
    got.seqs.filter((seq) => seq >= 500).length === count - 500,
    "everything published after the new exporter subscribed arrived",
  );

  await within(producing, 90_000, "B's producer finishes");
  const end = await until(
    () => onA.includes(jobsCount - 1) && jobs.stats().length === 0 ? true : undefined,
    "A consumed the last job",
    60_000,
  );
  assert.ok(end);
  await sleep(300);
  await consumer.stop();
  const seen = new Set<number>();
  for (const seq of onA) {
    assert.not.ok(seen.has(seq), `job ${seq} was consumed twice`);
    seen.add(seq);
  }
  // At most once: what the dead exporter had taken from B's queue and not delivered is lost, at most one frame.
  const missing = jobsCount - seen.size;
  assert.ok(missing <= 1024, `at most one frame lost (${missing} jobs)`);
  await importer.stop();
  await second.stop();
});

// ---------------------------------------------------------------------------
// 5. Hostile peers

test("hostile NATS peers: garbage frames, replies and requests are counted in malformed; nothing crashes and local parties get nothing forged", async () => {
  const server = await nats();
  using a = host("a");
  using b = host("b");
  const raw = await rawClient(server.url);
  const noise = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 73 + n * 11) & 255);
  const lying = () => {
    const builder = new FrameBuilder(4096, 16);
    builder.add(0, noise(40));
    const frame = builder.finish(0, 9);
    new DataView(frame.buffer).setUint32(FRAME_HEADER + 4, 0xFFFFFF00, true);
    return frame;
  };
  const garbage = [
    new Uint8Array(0),
    noise(3),
    noise(24),
    noise(100),
    lying(),
    (() => {
      const builder = new FrameBuilder(4096, 16);
      builder.add(0, noise(40));
      return builder.finish(0, 9).subarray(0, 50);
    })(),
  ];
  // A fake exporter: valid descriptions, then garbage for everything else.
  const describe = (name: string, body: string) =>
    raw.subscribe(`wshm.${name}.describe`, {
      callback: (_e, m) => {
        m.respond(body);
      },
    });
  describe(
    "feed",
    JSON.stringify({
      kind: "topic",
      maxMessage: 256,
      depth: 16,
      subscribers: 4,
      history: 0,
      policy: "overwrite",
      window: 64,
    }),
  );
  describe("jobs", JSON.stringify({ kind: "queue", slotSize: 256, slots: 16 }));
  describe("rpc", JSON.stringify({ kind: "channel", capacity: 256, clients: 4 }));
  describe("bad", "{not json");
  let pulls = 0;
  raw.subscribe("wshm.jobs.pull", {
    callback: (_e, m) => {
      m.respond(garbage[pulls++ % garbage.length]);
    },
  });
  let calls = 0;
  raw.subscribe("wshm.rpc.call", {
    callback: (_e, m) => {
      const h = natsHeaders();
      if (calls++ % 2 === 1) h.set("Wshm-Status", "forged");
      m.respond(noise(30), { headers: h });
    },
  });
  await raw.flush();
  const importer = await startBridge(a.name, server.url, { imports: ["feed", "jobs", "rpc", "bad"] });
  await importer.until((s) => ["feed", "jobs", "rpc"].every((n) => active(n)(s)), "the imports are active");
  const badState = objectOf(
    await importer.until(
      (s) => objectOf(s, "bad").state.startsWith("failed"),
      "the bad description is refused",
    ),
    "bad",
  );
  assert.match(badState.state, "Corrupt", `an unparsable description: ${badState.state}`);
  assert.not.ok(a.objects().some((o) => o.name === "bad"), "nothing is created for it");

  const sub = a.topic("feed", { create: false }).subscribe();
  for (const frame of garbage) raw.publish("wshm.feed.topic", frame);
  await raw.flush();
  const feed = objectOf(
    await importer.until(
      (s) => objectOf(s, "feed").malformed >= garbage.length,
      "every garbage frame is counted",
    ),
    "feed",
  );
  assert.equal(
    [feed.malformed, feed.received],
    [garbage.length, 0],
    "every frame malformed, nothing published",
  );
  assert.is(sub.tryReceive(), null, "the local subscriber got nothing");
  sub.close();

  await importer.until(
    (s) => objectOf(s, "jobs").malformed >= 2 * garbage.length,
    "garbage pull replies are counted",
  );
  assert.is(a.queue("jobs", { create: false }).stats().length, 0, "nothing entered the local queue");
  assert.is(objectOf(await importer.stats(), "jobs").received, 0);

  for (let n = 0; n < 2; n++) {
    assert.is(
      (await call(a, "rpc", "hello", 5000)).outcome,
      "RemoteError",
      "a reply not from a bridge is never a response",
    );
  }
  assert.is(objectOf(await importer.stats(), "rpc").malformed, 2, "both replies counted malformed");

  // The exporting side: garbage credit and pull requests.
  const work = b.queue("work", { slotSize: 64, slots: 8 });
  for (let n = 0; n < 5; n++) work.send(`job ${n}`);
  b.topic("news", { maxMessage: 64, depth: 8 });
  const exporter = await startBridge(b.name, server.url, { exports: ["work", "news"] });
  await exporter.until((s) => active("work")(s) && active("news")(s), "the exports are active");
  for (const body of ["", "null", '{"id":5}', '{"id":"x","next":1e300}', "[]"]) {
    raw.publish("wshm.news.credit", body);
  }
  for (const body of ["", "zzz", '{"max":0}', '{"max":"all"}']) {
    await raw.request("wshm.work.pull", body, { timeout: 300 }).catch(() => {});
  }
  const s = await exporter.until(
    (s) => objectOf(s, "news").malformed >= 5 && objectOf(s, "work").malformed >= 4,
    "garbage to the exporter is counted",
  );
  assert.equal([objectOf(s, "news").malformed, objectOf(s, "work").malformed, objectOf(s, "work").sent], [
    5,
    4,
    0,
  ]);
  assert.is(work.stats().length, 5, "no job left the exporter's queue");
  await importer.stop();
  await exporter.stop();
});

// ---------------------------------------------------------------------------
// 6. Bad input

test("Bridge.start refuses bad input with coded errors: invalid names, a name both ways, a missing export, a second bridge, bad options", async () => {
  using a = host("a", 1 << 20);
  a.channel("rpc", { capacity: 64 });
  a.event("flag");
  const nowhere = { servers: "nats://127.0.0.1:1" };
  const refused = async (options: unknown, code: string, what: string) => {
    try {
      const bridge = await Bridge.start(options as never);
      await bridge.close();
    } catch (error) {
      const e = error as { code?: string; message?: string };
      assert.is(e.code, code, `${what}: ${e.message}`);
      return;
    }
    assert.unreachable(`${what}: Bridge.start() accepted it`);
  };
  for (const name of ["a.b", "*", ">", "jobs.*", "has space", "", "x".repeat(129), 7]) {
    await refused(
      { segment: a, nats: nowhere, exports: [name] },
      "InvalidName",
      `export ${JSON.stringify(name)}`,
    );
    await refused(
      { segment: a, nats: nowhere, imports: [name] },
      "InvalidName",
      `import ${JSON.stringify(name)}`,
    );
  }
  await refused(
    { segment: a, nats: nowhere, exports: ["rpc"], imports: ["rpc"] },
    "InvalidArgument",
    "both ways",
  );
  await refused({ segment: a, nats: nowhere, exports: ["missing"] }, "NotFound", "a missing export");
  await refused(
    { segment: a.name, nats: nowhere, exports: ["missing"] },
    "NotFound",
    "a missing export, segment by name",
  );
  await refused(
    { segment: a, nats: nowhere, exports: ["flag"] },
    "KindMismatch",
    "an event cannot be bridged",
  );
  await refused({ segment: a, nats: nowhere, prefix: "wshm.*" }, "InvalidName", "a wildcard prefix");
  await refused({ segment: a, nats: nowhere, requestTimeoutMs: 0 }, "InvalidArgument", "requestTimeoutMs 0");
  await refused(
    { segment: a, nats: nowhere, requestTimeoutMs: 1.5 },
    "InvalidArgument",
    "requestTimeoutMs 1.5",
  );
  await refused({ segment: a, nats: nowhere, exports: "rpc" }, "InvalidArgument", "exports not a list");
  await refused({ segment: a, nats: { servers: 5 } }, "InvalidArgument", "servers not a URL");
  await refused({ segment: a }, "InvalidArgument", "no nats");
  await refused({ segment: 42, nats: nowhere }, "InvalidArgument", "segment not a name or Segment");
  await refused(
    { segment: uniqueName("bridge-none"), nats: nowhere },
    "NotFound",
    "a segment that does not exist",
  );
  await refused("rpc", "InvalidArgument", "options not an object");

  // A live bridge process holds the role: a second bridge on the segment is refused.
  const first = spawn(runtime, "bridge", bridgeArgs(a.name, nowhere.servers, { exports: ["rpc"] }));
  await first.line(/^ready/, 30_000);
  await refused({ segment: a, nats: nowhere }, "Exists", "a second bridge on the segment");
  const second = spawn(runtime, "bridge", bridgeArgs(a.name, nowhere.servers, {}));
  assert.match(
    await second.line(/^(ready|error)/, 30_000),
    /^error Exists /,
    "a second bridge process is refused",
  );
  assert.is((await within(second.done, 10_000, "the refused bridge exits")).code, 1);
  first.kill("SIGTERM");
  assert.is((await within(first.done, 20_000, "the first bridge stops")).code, 0);
  // Once it stopped, a bridge starts again on the segment.
  const again = await Bridge.start({ segment: a, nats: nowhere, exports: ["rpc"] });
  assert.is(again.stats().objects[0].name, "rpc");
  await again.close();
  a.unlink();
});

// ---------------------------------------------------------------------------
// 5. The wire decoder under random input

test("decodeFrame never throws and never returns a record past the buffer: random, truncated and lying frames", () => {
  let seed = 12345;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 0x100000000;
  };
  const within = (frame: NonNullable<ReturnType<typeof decodeFrame>>, data: Uint8Array) => {
    let total = FRAME_HEADER;
    for (const p of frame.payloads) {
      assert.ok(p.buffer === data.buffer, "a record is a view into the frame");
      assert.ok(
        p.byteOffset >= data.byteOffset + FRAME_HEADER &&
          p.byteOffset + p.length <= data.byteOffset + data.length,
        "inside the buffer",
      );
      total += RECORD_HEADER + p.length;
    }
    assert.is(total, data.length, "the records account for every byte");
    assert.is(frame.types.length, frame.payloads.length);
  };
  const builder = new FrameBuilder(64 * 1024, 1024);
  let decoded = 0, rejected = 0;
  for (let round = 0; round < 400; round++) {
    // A valid frame of random records, inside a larger buffer at a random offset.
    const records: Uint8Array[] = [];
    const n = Math.floor(random() * 20);
    for (let i = 0; i < n; i++) {
      const r = new Uint8Array(Math.floor(random() * 300));
      for (let j = 0; j < r.length; j++) r[j] = Math.floor(random() * 256);
      if (!builder.add(Math.floor(random() * 100), r)) break;
      records.push(r);
    }
    const frame = builder.finish(Math.floor(random() * 1e9), Math.floor(random() * 0xFFFFFFFF));
    const pad = Math.floor(random() * 16);
    const host = new Uint8Array(frame.length + pad + 16);
    host.set(frame, pad);
    const exact = host.subarray(pad, pad + frame.length);
    const good = decodeFrame(exact);
    assert.ok(good !== null, "a built frame decodes");
    within(good!, exact);
    assert.is(good!.payloads.length, records.length);
    good!.payloads.forEach((p, i) => assert.equal([...p], [...records[i]], `record ${i} round-trips`));
    // Every strict truncation is refused (the count says more records, or the last one runs past the end).
    for (let cut = 0; cut < exact.length; cut += 1 + Math.floor(random() * 7)) {
      assert.is(decodeFrame(exact.subarray(0, cut)), null, `truncated to ${cut} of ${exact.length}`);
    }
    // Bytes after the last record are refused.
    assert.is(decodeFrame(host.subarray(pad, pad + frame.length + 1 + (pad & 7))), null, "trailing bytes");
    // Mutations: a random length, count, magic or header field, or random bytes anywhere.
    for (let m = 0; m < 20; m++) {
      const copy = exact.slice();
      const view = new DataView(copy.buffer);
      const what = Math.floor(random() * 5);
      if (what === 0 && copy.length >= FRAME_HEADER + RECORD_HEADER) {
        view.setUint32(
          FRAME_HEADER + 4,
          [0xFFFFFFFF, 0x7FFFFFFF, copy.length, Math.floor(random() * 1e6)][m & 3],
          true,
        );
      } else if (what === 1) {
        view.setUint32(4, [0xFFFFFFFF, 1 << 30, records.length + 1, Math.floor(random() * 1e6)][m & 3], true);
      } else if (what === 2) view.setFloat64(8, [NaN, -1, Infinity, 2 ** 60][m & 3], true);
      else {
        for (let k = 0; k < 1 + Math.floor(random() * 8); k++) {
          copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
        }
      }
      let result;
      try {
        result = decodeFrame(copy);
      } catch (error) {
        assert.unreachable(`decodeFrame threw on a mutated frame: ${error}`);
      }
      if (result === null) rejected++;
      else {
        decoded++;
        within(result!, copy);
      }
    }
    // Pure noise of random length (sometimes with the right magic in front).
    const noise = new Uint8Array(Math.floor(random() * 200));
    for (let j = 0; j < noise.length; j++) noise[j] = Math.floor(random() * 256);
    if (noise.length >= 4 && random() < 0.5) new DataView(noise.buffer).setUint32(0, 0x31627377, true);
    const r = decodeFrame(noise);
    if (r !== null) within(r, noise);
  }
  assert.ok(
    rejected > 0 && decoded > 0,
    `both outcomes were exercised (${decoded} decoded, ${rejected} refused)`,
  );
});

test.run();
