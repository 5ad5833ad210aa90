// Deterministic replays of the recovery races (issue 14): a fixture process
// is paused by WSHM_FAULT (ts/fault.ts) right after processAlive told it a
// peer is dead, other processes act in that window (a new server attaches
// and recovers, a new producer or consumer takes the role over, another
// waiter takes the lock over), then the paused process goes on. Replayed on
// the protocol before the fix (plain stores in the classic channel's
// recovery), the two classic tests get the answer to another request. Each test asserts
// the property, whatever the protocol: every answer is the answer to its own
// request (or a coded error), no record is delivered twice or torn, no two
// holders of a lock at once; nothing hangs (every call has a timeout, every
// process a watchdog).

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeText, Segment } from "../ts/mod.ts";
import { configuredFaults, parseFaults } from "../ts/fault.ts";
import { recordPayload, writeRecord } from "./fixtures/fault_common.ts";
import {
  type Child,
  cleanup,
  fixtureCommand,
  type Runtime,
  runtime,
  RUNTIMES,
  startFixture,
  startProcess,
  uniqueName,
  within,
} from "./helpers.ts";

const test = suite(`fault injection (${runtime})`);
const dir = mkdtempSync(join(tmpdir(), "wshm-fault-"));
test.after.each(cleanup);
test.after(() => {
  cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** The runtime `i` places after this one, so each test spreads its roles over all three. */
const rt = (i: number): Runtime => RUNTIMES[(RUNTIMES.indexOf(runtime) + i) % RUNTIMES.length];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let gates = 0;
/** A fresh gate path (nothing exists there yet). */
function gate(tag: string): string {
  return join(dir, `${tag}-${gates++}`);
}

/** What a paused process wrote in `<gate>.paused`. */
interface Paused {
  pid: number;
  call: string;
  args: unknown[];
  result: number;
}

/** Resolves once the process behind `gate` has paused. */
async function paused(path: string, what: string, timeoutMs = 20_000): Promise<Paused> {
  const deadline = performance.now() + timeoutMs;
  while (!existsSync(`${path}.paused`)) {
    if (performance.now() > deadline) throw new Error(`${what}: never paused within ${timeoutMs} ms`);
    await sleep(5);
  }
  return JSON.parse(readFileSync(`${path}.paused`, "utf8"));
}

function open(path: string): void {
  writeFileSync(path, "");
}

/** Starts a fixture that pauses at its first processAlive call that finds `pid` dead. */
function startPaused(runtime: Runtime, fixture: string, args: string[], pid: number, path: string): Child {
  const [command, argv] = fixtureCommand(runtime, fixture, args);
  const fault = { call: "processAlive", when: "dead", pid, action: "pause", gate: path, timeoutMs: 30_000 };
  return startProcess(command, argv, {
    label: `${fixture} (${runtime}, paused when ${pid} is dead)`,
    env: { WSHM_FAULT: JSON.stringify(fault) },
    timeoutMs: 90_000,
  });
}

/** Lines of `output` that begin with `prefix`. */
function lines(output: string, prefix: string): string[] {
  return output.split("\n").filter((l) => l.startsWith(prefix));
}

test("WSHM_FAULT: off in this process, parsed with defaults, and a bad spec says what is wrong", () => {
  assert.is(configuredFaults(), undefined, "the test runner does not set WSHM_FAULT");
  const [f] = parseFaults('{"call":"processAlive","when":"dead","gate":"/tmp/g"}');
  assert.equal([f.action, f.skip, f.repeat, f.timeoutMs, f.pid], ["pause", 0, false, 30_000, undefined]);
  assert.is(
    parseFaults('[{"call":"waitUs","when":"timedOut","action":"delay"},{"call":"clockUs","action":"kill"}]')
      .length,
    2,
  );
  const bad = (text: string, why: RegExp) => {
    try {
      parseFaults(text);
    } catch (error) {
      assert.instance(error, TypeError);
      assert.match((error as Error).message, why);
      return;
    }
    assert.unreachable(`accepted ${text}`);
  };
  bad("{", /not JSON/);
  bad('{"call":"read"}', /call must be/);
  bad('{"call":"waitUs","when":"dead","action":"delay"}', /when for waitUs/);
  bad('{"call":"processAlive"}', /needs a gate/);
  bad('{"call":"wake","pid":3,"action":"delay"}', /pid/);
});

test("WSHM_FAULT kill: a waiter dies by SIGKILL right when its first wait slice runs out, and wedges nobody", async () => {
  const name = uniqueName("fault-kill");
  using segment = Segment.create(name, { size: 1 << 16 });
  const mutex = segment.mutex("lock");
  const held = mutex.lock({ timeoutMs: 1000 });
  const [command, argv] = fixtureCommand(rt(1), "fault_mutex", [name, "mutex", "1", "0", "exit"]);
  const waiter = startProcess(command, argv, {
    label: `fault_mutex (${rt(1)}, killed at its first timed-out wait)`,
    env: { WSHM_FAULT: JSON.stringify({ call: "waitUs", when: "timedOut", action: "kill" }) },
    timeoutMs: 60_000,
  });
  try {
    await waiter.line(/^waiting/);
    const result = await within(waiter.done, 20_000, "the waiter");
    assert.is(result.signal, "SIGKILL", `waiter:\n${result.stdout}${result.stderr}`);
    assert.not.match(result.stdout, /held/, "it died waiting");
  } finally {
    waiter.kill("SIGKILL");
  }
  held.unlock();
  const again = mutex.lock({ timeoutMs: 1000 });
  assert.not.ok(again.ownerDied, "a dead waiter is not a dead holder");
  again.unlock();
  segment.unlink();
});

// ── channel ──────────────────────────────────────────────────────────────

/** The coded errors a client may get instead of its answer when its server dies. */
const ALLOWED_ERRORS = /^reply \d+ error (PeerDied|Timeout|NoServer)$/;

/** Checks a channel client's output: only its own answers or allowed errors, and the last one answered. */
function checkClient(output: string, requests: number, what: string): void {
  const replies = lines(output, "reply ");
  assert.is(replies.length, requests, `${what}: one outcome per request:\n${output}`);
  for (const reply of replies) {
    if (/^reply \d+ ok$/.test(reply)) continue;
    assert.ok(ALLOWED_ERRORS.test(reply), `${what}: ${reply}\n${output}`);
  }
  assert.match(replies[replies.length - 1], /ok$/, `${what}: the channel works again afterwards:\n${output}`);
  assert.match(output, /^done 0$/m, `${what}: no answer to another request`);
}

async function stopServer(segment: Segment, server: Child): Promise<void> {
  const bye = await segment.channel("rpc").requestAsync("stop", { timeoutMs: 10_000 });
  assert.is(decodeText(bye), "bye");
  const result = await within(server.done, 20_000, "server exit");
  assert.is(result.code, 0, `server output:\n${result.stdout}${result.stderr}`);
}

/**
 * A client waiting for its answer finds its server dead and is paused right
 * there; a new server attaches, recovers and (`taken` false) starts serving
 * the pending request, holding it; the client goes on; then the server
 * answers. `taken`: the dead server had taken the request (it was serving
 * it) instead of leaving it queued.
 */
async function serverRestartWhileClientRecovers(clients: number, taken: boolean): Promise<void> {
  const name = uniqueName("fault-chan");
  using segment = Segment.create(name, { size: 1 << 20 });
  segment.channel("rpc", { capacity: 512, clients });
  const clientGate = gate("client");
  const hold = gate("hold");
  const children: Child[] = [];
  try {
    const dead = startFixture(rt(1), "fault_channel_server", [name, "rpc", "sync", hold], 90_000);
    children.push(dead);
    await dead.line(/^serving/);
    // A stopped server is alive but takes nothing: the request stays queued until it is killed.
    if (!taken) process.kill(dead.pid, "SIGSTOP");
    const script = `${taken ? "hang" : "hold"},plain,plain`;
    const client = startPaused(
      rt(2),
      "fault_channel_client",
      [name, "rpc", "1", script, "sync"],
      dead.pid,
      clientGate,
    );
    children.push(client);
    if (taken) await dead.line(/^hanging/);
    else {
      await client.line(/^sending 1/);
      await sleep(200);
    }
    dead.kill("SIGKILL");
    await within(dead.done, 10_000, "the killed server");
    const marker = await paused(clientGate, "the client");
    assert.equal([marker.call, marker.args[0], marker.result], ["processAlive", dead.pid, 0]);

    const server = startFixture(rt(0), "fault_channel_server", [name, "rpc", "sync", hold], 90_000);
    children.push(server);
    assert.is(await server.line(/^serving/), "serving true", "the new server took over");
    // A protocol may have the new server serve the pending request (it then holds it here) or fail it
    // (SERVER_LOST): either is fine, as long as the client gets its own answer or a coded error.
    if (!taken) await server.line(/^holding 1 1$/, 1000).catch(() => {});
    else await sleep(100);
    // A second client of another runtime, unpaused, at the same time.
    const other = startFixture(rt(1), "fault_channel_client", [
      name,
      "rpc",
      "2",
      "plain,plain,plain,plain,plain",
      "async",
    ], 90_000);
    children.push(other);
    open(clientGate);
    // The paused client goes on: give it time to act on what it saw (with the old protocol: reset
    // the exchange, fail with PeerDied and send its next request into the buffer being served).
    await client.line(/^sending 2/, 2000).catch(() => {});
    await sleep(300);
    open(hold);
    const result = await within(client.done, 40_000, "the paused client");
    assert.is(result.code, 0, `client:\n${result.stdout}${result.stderr}`);
    checkClient(result.stdout, 3, "the paused client");
    const second = await within(other.done, 40_000, "the other client");
    checkClient(second.stdout, 5, "the other client");
    await stopServer(segment, server);
  } finally {
    for (const child of children) child.kill("SIGKILL");
  }
  segment.unlink();
}

for (const clients of [0, 4]) {
  const mode = clients === 0 ? "classic" : "many-client";
  test(`${mode}: a new server attaches (and may serve the pending request) while its client, paused after finding the old server dead, recovers`, async () => {
    await serverRestartWhileClientRecovers(clients, false);
  });
  test(`${mode}: a new server repairs the exchange the dead server was serving while its client, paused, recovers`, async () => {
    await serverRestartWhileClientRecovers(clients, true);
  });
}

test("classic: a client settling an abandoned exchange is paused after finding the server dead; a new server attaches (and may serve that exchange) meanwhile", async () => {
  const name = uniqueName("fault-settle");
  using segment = Segment.create(name, { size: 1 << 20 });
  const channel = segment.channel("rpc", { capacity: 512 });
  const clientGate = gate("settle");
  const hold = gate("hold");
  const children: Child[] = [];
  try {
    const dead = startFixture(rt(1), "fault_channel_server", [name, "rpc", "sync", hold], 90_000);
    children.push(dead);
    await dead.line(/^serving/);
    process.kill(dead.pid, "SIGSTOP");
    // This process gives up on a request the stopped server never took: it stays with the channel.
    const gaveUp = await channel.requestAsync("hold 0 1 abandoned", { timeoutMs: 300 }).then(
      () => "answered",
      (error) => error.code,
    );
    assert.is(gaveUp, "Timeout");
    dead.kill("SIGKILL");
    await within(dead.done, 10_000, "the killed server");
    const client = startPaused(
      rt(2),
      "fault_channel_client",
      [
        name,
        "rpc",
        "1",
        "plain,plain,plain",
        "async",
      ],
      dead.pid,
      clientGate,
    );
    children.push(client);
    await paused(clientGate, "the settling client");
    const server = startFixture(rt(0), "fault_channel_server", [name, "rpc", "sync", hold], 90_000);
    children.push(server);
    assert.is(await server.line(/^serving/), "serving true");
    await server.line(/^holding 0 1$/, 1000).catch(() => {});
    open(clientGate);
    await client.line(/^sending 2/, 2000).catch(() => {});
    await sleep(300);
    open(hold);
    const result = await within(client.done, 40_000, "the settling client");
    assert.is(result.code, 0, `client:\n${result.stdout}${result.stderr}`);
    checkClient(result.stdout, 3, "the settling client");
    await stopServer(segment, server);
  } finally {
    for (const child of children) child.kill("SIGKILL");
  }
  segment.unlink();
});

// ── ring ─────────────────────────────────────────────────────────────────

test("ring: a new producer takes over and sends while the consumer, paused after finding the old one dead, recovers", async () => {
  const name = uniqueName("fault-ring-p");
  using segment = Segment.create(name, { size: 1 << 20 });
  segment.ring("data", { capacity: 1 << 14 });
  const consumerGate = gate("ring-consumer");
  const children: Child[] = [];
  try {
    const dead = startFixture(rt(1), "fault_ring", [name, "producer", "1", "50", "stay"], 90_000);
    children.push(dead);
    await dead.line(/^sent 50/);
    const consumer = startPaused(
      rt(2),
      "fault_ring",
      [name, "consumer", "150", "exit"],
      dead.pid,
      consumerGate,
    );
    children.push(consumer);
    await consumer.line(/^attached/);
    await sleep(200);
    dead.kill("SIGKILL");
    await within(dead.done, 10_000, "the killed producer");
    await paused(consumerGate, "the consumer");
    // The new producer sends 50 records, then 50 more while the consumer goes on.
    const producer = startFixture(rt(0), "fault_ring", [name, "producer", "2", "50+50", "exit"], 90_000);
    children.push(producer);
    assert.is(await producer.line(/^attached/), "attached true", "the new producer took the role over");
    await producer.line(/^progress 50/);
    open(consumerGate);
    const result = await within(consumer.done, 40_000, "the consumer");
    assert.match(result.stdout, /^received 150 1\/0 2\/99$/m, `consumer:\n${result.stdout}${result.stderr}`);
    const sent = await within(producer.done, 20_000, "the producer");
    assert.match(sent.stdout, /^sent 100$/m, `the new producer:\n${sent.stdout}${sent.stderr}`);
  } finally {
    for (const child of children) child.kill("SIGKILL");
  }
  segment.unlink();
});

test("ring: a new consumer takes over and reads while the producer, paused after finding the old one dead, recovers", async () => {
  const name = uniqueName("fault-ring-c");
  using segment = Segment.create(name, { size: 1 << 20 });
  segment.ring("data", { capacity: 4096 });
  const producerGate = gate("ring-producer");
  const children: Child[] = [];
  try {
    const dead = startFixture(rt(1), "fault_ring", [name, "consumer", "20", "stall"], 90_000);
    children.push(dead);
    await dead.line(/^attached/);
    const producer = startPaused(
      rt(2),
      "fault_ring",
      [name, "producer", "1", "300", "exit"],
      dead.pid,
      producerGate,
    );
    children.push(producer);
    await dead.line(/^stalled 20/);
    // The ring fills up behind the stalled consumer; then it dies.
    await sleep(300);
    dead.kill("SIGKILL");
    await within(dead.done, 10_000, "the killed consumer");
    await paused(producerGate, "the producer");
    const consumer = startFixture(rt(0), "fault_ring", [name, "consumer", "280", "exit"], 90_000);
    children.push(consumer);
    assert.is(await consumer.line(/^attached/), "attached true", "the new consumer took the role over");
    await sleep(200);
    open(producerGate);
    const result = await within(consumer.done, 40_000, "the new consumer");
    assert.match(
      result.stdout,
      /^received 280 1\/20 1\/299$/m,
      `consumer:\n${result.stdout}${result.stderr}`,
    );
    const sent = await within(producer.done, 20_000, "the producer");
    assert.match(sent.stdout, /^sent 300$/m, `producer:\n${sent.stdout}${sent.stderr}`);
  } finally {
    for (const child of children) child.kill("SIGKILL");
  }
  segment.unlink();
});

// ── queue ────────────────────────────────────────────────────────────────

/** The queue, its shared counters and seen bitmap (fault_queue.ts), created here. */
function queueSegment(name: string): [Segment, Int32Array] {
  const segment = Segment.create(name, { size: 1 << 20 });
  segment.queue("q", { slotSize: 64, slots: 4 });
  const state = new Int32Array(segment.memory.buffer, segment.bytes("qstate", 16).byteOffset, 4);
  segment.bytes("seen", 1024);
  return [segment, state];
}

function checkConsumers(outputs: string[], total: number, state: Int32Array): void {
  let got = 0;
  for (const output of outputs) {
    const m = output.match(/^got (\d+) dups=(\d+) torn=(\d+)$/m);
    assert.ok(m, `a consumer's summary:\n${output}`);
    got += Number(m![1]);
  }
  assert.is(Atomics.load(state, 1), 0, "no record delivered twice");
  assert.is(Atomics.load(state, 2), 0, "no record torn");
  assert.is(got, total, "every record delivered once");
}

test("queue: consumers and a new producer go on while a consumer, paused after finding a slot's writer dead, recovers that slot", async () => {
  const name = uniqueName("fault-queue-w");
  const [segment, state] = queueSegment(name);
  using _segment = segment;
  const consumerGate = gate("queue-consumer");
  const children: Child[] = [];
  try {
    const dead = startFixture(rt(1), "queue_holder", [name, "claim"], 90_000);
    children.push(dead);
    await dead.line(/^holding/);
    dead.kill("SIGKILL");
    await within(dead.done, 10_000, "the killed writer");
    const paused1 = startPaused(rt(2), "fault_queue", [name, "consumer", "60"], dead.pid, consumerGate);
    children.push(paused1);
    await paused(consumerGate, "the first consumer");
    const consumer = startFixture(rt(0), "fault_queue", [name, "consumer", "60"], 90_000);
    const producer = startFixture(rt(1), "fault_queue", [name, "producer", "1", "40"], 90_000);
    children.push(consumer, producer);
    // The slots go round ten times while the first consumer still holds its view of the dead writer's slot.
    await within(producer.done, 30_000, "the new producer");
    open(consumerGate);
    await sleep(200);
    // Traffic after the paused consumer acted: a recovery from a stale view would show here.
    const later = startFixture(rt(2), "fault_queue", [name, "producer", "2", "20"], 90_000);
    children.push(later);
    const outputs = await within(Promise.all([paused1.done, consumer.done]), 40_000, "the consumers");
    checkConsumers(outputs.map((r) => r.stdout), 60, state);
    assert.match((await within(later.done, 20_000, "the later producer")).stdout, /^sent 20$/m);
  } finally {
    for (const child of children) child.kill("SIGKILL");
  }
  segment.unlink();
});

test("queue: producers and a new consumer go on while a producer, paused after finding a slot's reader dead, recovers that slot", async () => {
  const name = uniqueName("fault-queue-r");
  const [segment, state] = queueSegment(name);
  using _segment = segment;
  const queue = segment.queue("q");
  const scratch = new Uint8Array(64);
  for (let seq = 0; seq < 4; seq++) {
    const n = writeRecord(scratch, 0, 3, seq, recordPayload(3, seq, 64));
    assert.ok(queue.trySend(scratch.subarray(0, n)), "the queue takes 4 records");
  }
  const producerGate = gate("queue-producer");
  const children: Child[] = [];
  try {
    // It takes record 3/0 and dies holding it: the one loss the docs allow.
    const dead = startFixture(rt(1), "queue_holder", [name, "read"], 90_000);
    children.push(dead);
    await dead.line(/^holding/);
    dead.kill("SIGKILL");
    await within(dead.done, 10_000, "the killed reader");
    const paused1 = startPaused(rt(2), "fault_queue", [name, "producer", "1", "20"], dead.pid, producerGate);
    children.push(paused1);
    await paused(producerGate, "the first producer");
    const producer = startFixture(rt(0), "fault_queue", [name, "producer", "2", "20"], 90_000);
    const consumer = startFixture(rt(1), "fault_queue", [name, "consumer", "43"], 90_000);
    children.push(producer, consumer);
    await within(producer.done, 30_000, "the second producer");
    open(producerGate);
    const sent = await within(paused1.done, 30_000, "the paused producer");
    assert.match(sent.stdout, /^sent 20$/m, `paused producer:\n${sent.stdout}${sent.stderr}`);
    const result = await within(consumer.done, 40_000, "the consumer");
    checkConsumers([result.stdout], 43, state);
  } finally {
    for (const child of children) child.kill("SIGKILL");
  }
  segment.unlink();
});

// ── mutex and rwlock ─────────────────────────────────────────────────────

/**
 * A holder is killed; a waiter is paused right after finding it dead;
 * another process takes the lock over (and, with `handOn`, gives it to a
 * third, which holds it); the paused waiter goes on while the lock is held.
 */
async function lockTakeover(lock: "mutex" | "write", handOn: boolean): Promise<void> {
  const name = uniqueName(`fault-${lock}`);
  using segment = Segment.create(name, { size: 1 << 16 });
  if (lock === "mutex") segment.mutex("lock");
  else segment.rwlock("lock");
  const s = new Int32Array(segment.memory.buffer, segment.bytes("mstate", 32).byteOffset, 8);
  const waiterGate = gate("mutex-waiter");
  const children: Child[] = [];
  try {
    const dead = startFixture(rt(1), "fault_mutex", [name, lock, "1", "0", "stay"], 90_000);
    children.push(dead);
    await dead.line(/^holding/);
    const waiter = startPaused(rt(2), "fault_mutex", [name, lock, "2", "20", "exit"], dead.pid, waiterGate);
    children.push(waiter);
    await waiter.line(/^waiting/);
    dead.kill("SIGKILL");
    await within(dead.done, 10_000, "the killed holder");
    await paused(waiterGate, "the waiter");
    const taker = startFixture(
      rt(0),
      "fault_mutex",
      [name, lock, "1", handOn ? "0" : "1000", "exit"],
      90_000,
    );
    children.push(taker);
    assert.is(await taker.line(/^held/), "held 1", "the other process took over from the dead holder");
    let holder = taker;
    if (handOn) {
      await within(taker.done, 20_000, "the taker");
      holder = startFixture(rt(1), "fault_mutex", [name, lock, "1", "1000", "exit"], 90_000);
      children.push(holder);
      assert.is(await holder.line(/^held/), "held 0", "a new holder, after the repair");
    }
    open(waiterGate);
    const results = await within(Promise.all([waiter.done, holder.done, taker.done]), 40_000, "the holders");
    for (const r of results) assert.is(r.code, 0, `a holder:\n${r.stdout}${r.stderr}`);
    assert.not.match(
      results[0].stdout,
      /held 1/,
      "one death, one takeover: the waiter did not take over too",
    );
    assert.is(Atomics.load(s, 1), 0, "never two holders at once");
    assert.is(Atomics.load(s, 6), 0, "ownerDied exactly when the dead holder left its mark");
    assert.is(Atomics.load(s, 3), 1, "one repair for one death");
    const sections = handOn ? 5 : 4;
    assert.is(Atomics.load(s, 5), sections, "every section ran");
    assert.is(s[4], sections, "the counter under the lock lost no increment");
  } finally {
    for (const child of children) child.kill("SIGKILL");
  }
  segment.unlink();
}

for (const lock of ["mutex", "write"] as const) {
  const what = lock === "mutex" ? "mutex" : "rwlock write lock";
  test(`${what}: another process takes the lock over while a waiter, paused after finding the holder dead, recovers`, async () => {
    await lockTakeover(lock, false);
  });
  test(`${what}: a new holder has the lock (after another took over) when the paused waiter goes on`, async () => {
    await lockTakeover(lock, true);
  });
}

test.run();
