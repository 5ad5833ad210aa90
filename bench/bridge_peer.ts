// The processes of bridge.ts. Every one prints "ready" once set up; the ones
// that wait on their event loop (bridges, NATS peers, the publisher's warm-up)
// end when their stdin closes, so that they die with the benchmark even if it
// was SIGKILLed; the ones that block in a core call end at their timeouts.
//
//   bridge SEGMENT URL PREFIX export|import NAME
//             runs a Bridge for NAME; on "stop" (stdin) prints "stats JSON" (its
//             counters, and cpuPerMessageUs: its CPU time per message from the
//             first message on) and closes
//   client SEGMENT NAME TRIPS WAIT [GAP_MS]   waits for channel NAME to appear (the
//             importing bridge creates it), makes warm-up calls until one goes
//             through the whole chain, then TRIPS timed 64 B zero-copy calls,
//             stamped and checked as channel.ts does (_loops.ts); prints
//             "samples NS NS ..." (ns per round trip), then the stop request; with
//             GAP_MS, each call is timed alone after GAP_MS idle (both sides park)
//   server SEGMENT NAME WAIT            answers channel NAME in place until the
//             stop request
//   relay-echo SEGMENT NAME WAIT       the importing bridge's local hop alone: the
//             server of channel NAME through receiveAsync() (as the bridge
//             serves it), answering in place at once instead of over NATS
//   async-client SEGMENT NAME TRIPS WAIT [GAP_MS]   the exporting bridge's local hop alone:
//             TRIPS calls through requestAsync() (as the bridge makes them) to a
//             server process; prints "samples ..."
//   nats-client URL SUBJECT TRIPS       the raw baseline of client: 64 B
//             nc.request() round trips, the same stamps and checks
//   nats-responder URL SUBJECT          the raw baseline of server: answers each
//             request with a 64 B copy carrying the stamps + 1
//   publisher SEGMENT NAME COUNT WAIT   publishes a warm-up message every 10 ms
//             until "go" on stdin, then COUNT 64 B data messages, then a stop one
//   subscriber SEGMENT NAME COUNT WAIT  waits for topic NAME to appear,
//             subscribes, prints "primed" at the first warm-up message, then
//             counts data messages until the stop message (or 10 s without
//             one); prints "result RATE RECEIVED MISSED" (msgs/s from the first
//             data message to the last)
//   producer SEGMENT NAME COUNT WAIT    the publisher's protocol on queue NAME
//             (claimAt/commit in place)
//   consumer SEGMENT NAME COUNT WAIT    the subscriber's on queue NAME (read in place,
//             releaseAt); a work queue keeps no order across the bridge's frames,
//             so it counts distinct data messages (a duplicate fails the run)
//   nats-publisher URL SUBJECT COUNT    the raw baselines of publisher and
//   nats-subscriber URL SUBJECT COUNT   subscriber, the same protocol over NATS
//             (nc.publish, a flush every 1024 messages; a callback subscription)
//
// Message layout (topic and raw NATS alike, 64 B): word 0 the kind (DATA,
// STOP, WARM), word 1 the sequence number, word 15 the sequence number again.

import { Segment } from "../ts/mod.ts";
import type { Channel, Topic, WaitMode } from "../ts/mod.ts";
import { Bridge } from "../ts/bridge.ts";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { answer, exchange, wordsOf } from "./_loops.ts";

const args = process.argv.slice(2);
const role = args[0];
const MESSAGE = 64;
const DATA = 0;
const STOP = 1;
const WARM = 2;
/** How long a peer waits for anything (the chain to come up, a message, a reply). */
const PATIENCE_MS = 30_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Calls `onLine` for each stdin line; exits when stdin closes (the benchmark is gone). */
function watchStdin(onLine: (line: string) => void, onEnd: () => void = () => process.exit(0)): void {
  let partial = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    partial += chunk;
    const lines = partial.split("\n");
    partial = lines.pop()!;
    for (const line of lines) onLine(line.trim());
  });
  process.stdin.on("end", onEnd);
  process.stdin.on("error", onEnd);
}

async function waitForObject(segment: Segment, name: string, kind: string): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  while (!segment.objects().some((o) => o.name === name && o.kind === kind)) {
    if (Date.now() > deadline) {
      throw new Error(`no ${kind} "${name}" in ${segment.name} within ${PATIENCE_MS} ms`);
    }
    await sleep(10);
  }
}

function stampMessage(view: Int32Array, at: number, kind: number, seq: number): void {
  view[at] = kind;
  view[at + 1] = seq;
  view[at + 15] = seq;
}

async function runBridge(): Promise<void> {
  const [, segmentName, url, prefix, direction, name] = args;
  const bridge = await Bridge.start({
    segment: segmentName,
    nats: { servers: url },
    prefix,
    ...(direction === "export" ? { exports: [name] } : { imports: [name] }),
    log: (line) => console.error(`bridge ${direction} ${name}: ${line}`),
  });
  // CPU time per message from the first message on (start-up and module loading excluded):
  // the bridge's own work per message, its polls included.
  const handled = () => {
    const o = bridge.stats().objects[0];
    return o === undefined ? 0 : Math.max(o.sent, o.received);
  };
  let from: { cpu: number; messages: number } | undefined;
  const cpu = cpuMicros;
  const watch = setInterval(() => {
    const messages = handled();
    if (messages > 0) {
      from = { cpu: cpu(), messages };
      clearInterval(watch);
    }
  }, 5);
  let closing = false;
  const close = async (printStats: boolean) => {
    if (closing) return;
    closing = true;
    clearInterval(watch);
    if (printStats) {
      const messages = handled() - (from?.messages ?? 0);
      const cpuPerMessageUs = from !== undefined && messages > 0 ? (cpu() - from.cpu) / messages : null;
      console.log(`stats ${JSON.stringify({ ...bridge.stats(), cpuPerMessageUs })}`);
    }
    await bridge.close();
    process.exit(0);
  };
  watchStdin((line) => {
    if (line === "stop") void close(true);
  }, () => void close(false));
  console.log("ready");
}

/** CPU time of this process so far (user + system, every thread), µs. */
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Sleeps `ms` without spinning and without an event loop (the sync client's idle gap). */
function pauseSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

async function runClient(): Promise<void> {
  const [, segmentName, name, tripsText, wait, gapText] = args;
  const trips = Number(tripsText);
  const gapMs = Number(gapText ?? 0);
  const segment = Segment.open(segmentName, { timeoutMs: 10_000 });
  console.log("ready");
  await waitForObject(segment, name, "channel");
  const channel: Channel = segment.channel(name, { create: false, wait: wait as WaitMode });
  const words = wordsOf(segment);
  // Until the exporter has subscribed and described the channel, calls fail with
  // NoServer or Unavailable: the chain is up once one call goes through.
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    try {
      channel.request(new Uint8Array(MESSAGE), { timeoutMs: 10_000 });
      break;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if ((code !== "NoServer" && code !== "Unavailable") || Date.now() > deadline) throw error;
      await sleep(20);
    }
  }
  const seq = exchange(channel, words, MESSAGE, true, Math.max(200, trips / 10), 0, null);
  const samples = new Float64Array(trips);
  const cpuFrom = cpuMicros();
  if (gapMs > 0) {
    // Each call timed alone after an idle gap, as a bridge's hop comes after a NATS round trip.
    const one = new Float64Array(1);
    for (let i = 0, next = seq; i < trips; i++) {
      pauseSync(gapMs);
      next = exchange(channel, words, MESSAGE, true, 1, next, one);
      samples[i] = one[0];
    }
  } else {
    exchange(channel, words, MESSAGE, true, trips, seq, samples);
  }
  console.log(`cpu ${(cpuMicros() - cpuFrom) / trips}`);
  console.log(`samples ${Array.from(samples, (s) => Math.round(s)).join(" ")}`);
  const call = channel.begin({ timeoutMs: 10_000 });
  try {
    call.send(0, { timeoutMs: 10_000 });
  } finally {
    call.end();
  }
  channel.detach();
  segment.close();
}

function runServer(): void {
  const [, segmentName, name, wait] = args;
  const segment = Segment.open(segmentName, { timeoutMs: 10_000 });
  const channel = segment.channel(name, { create: false, wait: wait as WaitMode });
  channel.attachServer();
  const words = wordsOf(segment);
  console.log("ready");
  const options = { timeoutMs: PATIENCE_MS };
  for (;;) {
    const request = channel.receive(options);
    const length = answer(channel, words, request.at, request.length, request.responseAt);
    request.respondWith(Math.max(0, length));
    if (length < 0) break;
  }
  channel.detach();
  segment.close();
}

async function runRelayEcho(): Promise<void> {
  const [, segmentName, name, wait] = args;
  const segment = Segment.open(segmentName, { timeoutMs: 10_000 });
  const channel = segment.channel(name, { create: false, wait: wait as WaitMode });
  channel.attachServer();
  const words = wordsOf(segment);
  console.log("ready");
  const options = { timeoutMs: PATIENCE_MS };
  for (;;) {
    const request = await channel.receiveAsync(options);
    const length = answer(channel, words, request.at, request.length, request.responseAt);
    request.respondWith(Math.max(0, length));
    if (length < 0) break;
  }
  channel.detach();
  segment.close();
  process.exit(0);
}

async function runAsyncClient(): Promise<void> {
  const [, segmentName, name, tripsText, wait, gapText] = args;
  const trips = Number(tripsText);
  const gapMs = Number(gapText ?? 0);
  const segment = Segment.open(segmentName, { timeoutMs: 10_000 });
  const channel = segment.channel(name, { create: false, wait: wait as WaitMode });
  console.log("ready");
  const options = { timeoutMs: 10_000 };
  const warm = Math.max(200, trips / 10);
  const samples = new Float64Array(trips);
  let previous = performance.now();
  for (let i = -warm, seq = 0; i < trips; i++, seq++) {
    if (gapMs > 0 && i >= 0) {
      await sleep(gapMs);
      previous = performance.now();
    }
    // Like the exporting bridge: a fresh request (its copy of the NATS message), a copied response.
    const request = new Uint8Array(MESSAGE);
    new Int32Array(request.buffer).fill(seq);
    const response = await channel.requestAsync(request, options);
    const back = new Int32Array(response.slice().buffer, 0, response.byteLength >> 2);
    if (response.byteLength !== MESSAGE || back[0] !== seq + 1 || back[15] !== seq + 1) {
      throw new Error(
        `wrong response: ${response.byteLength} bytes, stamps ${back[0]}/${back[15]}, expected ${seq + 1}`,
      );
    }
    const now = performance.now();
    if (i >= 0) samples[i] = (now - previous) * 1e6;
    previous = now;
  }
  console.log(`samples ${Array.from(samples, (s) => Math.round(s)).join(" ")}`);
  await channel.requestAsync(new Uint8Array(0), options);
  channel.detach();
  segment.close();
  process.exit(0);
}

async function natsConnect(url: string): Promise<NatsConnection> {
  // noAsyncTraces as the bridge connects (ts/bridge.ts): the baseline gets the same cheaper requests.
  return await connect({
    servers: url,
    timeout: 10_000,
    noAsyncTraces: true,
    name: `wshm-bench ${role} (pid ${process.pid})`,
  });
}

async function runNatsClient(): Promise<void> {
  const [, url, subject, tripsText] = args;
  const trips = Number(tripsText);
  const nc = await natsConnect(url);
  console.log("ready");
  const options = { timeout: 10_000 };
  let seq = 0;
  // The responder may still be subscribing: "no responders" until it is.
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    try {
      await nc.request(subject, new Uint8Array(MESSAGE), options);
      break;
    } catch (error) {
      const e = error as { isNoResponders?: () => boolean };
      if (!(typeof e.isNoResponders === "function" && e.isNoResponders()) || Date.now() > deadline) {
        throw error;
      }
      await sleep(20);
    }
  }
  const warm = Math.max(200, trips / 10);
  const samples = new Float64Array(trips);
  let previous = performance.now();
  let cpuFrom = 0;
  for (let i = -warm; i < trips; i++, seq++) {
    if (i === 0) cpuFrom = cpuMicros();
    // A fresh request each time: the client library may keep the buffer until it is written.
    const request = new Uint8Array(MESSAGE);
    const out = new Int32Array(request.buffer);
    out.fill(seq);
    const reply = await nc.request(subject, request, options);
    const data = reply.data;
    const back = new Int32Array(new Uint8Array(data).buffer, 0, data.byteLength >> 2);
    if (data.byteLength !== MESSAGE || back[0] !== seq + 1 || back[15] !== seq + 1) {
      throw new Error(
        `wrong reply: ${data.byteLength} bytes, stamps ${back[0]}/${back[15]}, expected ${seq + 1}`,
      );
    }
    const now = performance.now();
    if (i >= 0) samples[i] = (now - previous) * 1e6;
    previous = now;
  }
  console.log(`cpu ${(cpuMicros() - cpuFrom) / trips}`);
  console.log(`samples ${Array.from(samples, (s) => Math.round(s)).join(" ")}`);
  await nc.close();
}

async function runNatsResponder(): Promise<void> {
  const [, url, subject] = args;
  const nc = await natsConnect(url);
  nc.subscribe(subject, {
    callback: (_error, msg) => {
      // A copy (msg.data is a view into the client's read buffer, at any offset; under Node a
      // Buffer, whose slice() is another view, hence the constructor).
      const reply = new Uint8Array(msg.data);
      const out = new Int32Array(reply.buffer, 0, reply.byteLength >> 2);
      const value = out[0];
      if (out[out.length - 1] !== value) {
        console.error(`nats-responder: torn request ${value}`);
        process.exit(1);
      }
      out[0] = value + 1;
      out[out.length - 1] = value + 1;
      msg.respond(reply);
    },
  });
  await nc.flush();
  watchStdin(() => {}, () => void nc.close().finally(() => process.exit(0)));
  console.log("ready");
}

async function runPublisher(): Promise<void> {
  const [, segmentName, name, countText, wait] = args;
  const count = Number(countText);
  const segment = Segment.open(segmentName, { timeoutMs: 10_000 });
  const topic: Topic = segment.topic(name, { create: false, wait: wait as WaitMode });
  topic.attachPublisher();
  const view = new Int32Array(topic.bytes.buffer, topic.bytes.byteOffset, topic.bytes.length >>> 2);
  const options = { timeoutMs: PATIENCE_MS };
  const publish = (kind: number, seq: number) => {
    const at = topic.loanAt(MESSAGE, options);
    stampMessage(view, at >>> 2, kind, seq);
    topic.commit();
  };
  let go = false;
  watchStdin((line) => (go ||= line === "go"));
  console.log("ready");
  const deadline = Date.now() + PATIENCE_MS;
  for (let warm = 0; !go; warm++) {
    if (Date.now() > deadline) throw new Error(`no "go" within ${PATIENCE_MS} ms`);
    publish(WARM, warm);
    await sleep(10);
  }
  for (let i = 0; i < count; i++) publish(DATA, i);
  publish(STOP, count);
  topic.detachPublisher();
  segment.close();
  process.exit(0);
}

/** Counts data messages as they come; `finish` prints the result line. */
class Tally {
  received = 0;
  missed = 0;
  #next = 0;
  #first = 0;
  #last = 0;

  data(seq: number, last: number): void {
    const now = performance.now();
    if (seq !== last) throw new Error(`torn message ${seq}/${last}`);
    if (seq < this.#next) throw new Error(`message ${seq} after ${this.#next - 1}: out of order`);
    if (this.received === 0) this.#first = now;
    this.#last = now;
    this.missed += seq - this.#next;
    this.#next = seq + 1;
    this.received++;
  }

  finish(count: number): void {
    this.missed += count - this.#next;
    const seconds = (this.#last - this.#first) / 1000;
    const rate = this.received > 1 && seconds > 0 ? (this.received - 1) / seconds : 0;
    console.log(`result ${rate} ${this.received} ${this.missed}`);
  }
}

async function runSubscriber(): Promise<void> {
  const [, segmentName, name, countText, wait] = args;
  const count = Number(countText);
  const segment = Segment.open(segmentName, { timeoutMs: 10_000 });
  console.log("ready");
  await waitForObject(segment, name, "topic");
  const topic = segment.topic(name, { create: false, wait: wait as WaitMode });
  const subscriber = topic.subscribe();
  const view = new Int32Array(topic.bytes.buffer, topic.bytes.byteOffset, topic.bytes.length >>> 2);
  const tally = new Tally();
  const options = { timeoutMs: PATIENCE_MS };
  let primed = false;
  for (;;) {
    let m;
    try {
      m = subscriber.read(primed && tally.received > 0 ? { timeoutMs: 10_000 } : options);
    } catch (error) {
      // The stop message can be lost under "overwrite": the count ends the same way.
      if ((error as { code?: string }).code === "Timeout" && tally.received > 0) break;
      throw error;
    }
    const at = m.at >>> 2;
    const kind = view[at];
    const seq = view[at + 1];
    const last = view[at + 15];
    // Under "overwrite" the importing bridge may overwrite a message while it is read: then
    // release() says so and what was read is not used (the gap counts it as missed).
    if (!subscriber.release()) continue;
    if (kind === DATA) tally.data(seq, last);
    if (kind === WARM && !primed) {
      primed = true;
      console.log("primed");
    }
    if (kind === STOP) break;
  }
  tally.finish(count);
  subscriber.close();
  segment.close();
}

async function runProducer(): Promise<void> {
  const [, segmentName, name, countText, wait] = args;
  const count = Number(countText);
  const segment = Segment.open(segmentName, { timeoutMs: 10_000 });
  const queue = segment.queue(name, { create: false, wait: wait as WaitMode });
  const view = new Int32Array(queue.bytes.buffer, queue.bytes.byteOffset, queue.bytes.length >>> 2);
  const options = { timeoutMs: PATIENCE_MS };
  const send = (kind: number, seq: number) => {
    const at = queue.claimAt(options);
    stampMessage(view, at >>> 2, kind, seq);
    queue.commit(at, MESSAGE);
  };
  let go = false;
  watchStdin((line) => (go ||= line === "go"));
  console.log("ready");
  const deadline = Date.now() + PATIENCE_MS;
  for (let warm = 0; !go; warm++) {
    if (Date.now() > deadline) throw new Error(`no "go" within ${PATIENCE_MS} ms`);
    send(WARM, warm);
    await sleep(10);
  }
  for (let i = 0; i < count; i++) send(DATA, i);
  send(STOP, count);
  segment.close();
  process.exit(0);
}

async function runConsumer(): Promise<void> {
  const [, segmentName, name, countText, wait] = args;
  const count = Number(countText);
  const segment = Segment.open(segmentName, { timeoutMs: 10_000 });
  console.log("ready");
  await waitForObject(segment, name, "queue");
  const queue = segment.queue(name, { create: false, wait: wait as WaitMode });
  const view = new Int32Array(queue.bytes.buffer, queue.bytes.byteOffset, queue.bytes.length >>> 2);
  const seen = new Uint8Array(count);
  const options = { timeoutMs: PATIENCE_MS };
  let primed = false;
  let received = 0;
  let first = 0;
  let last = 0;
  for (;;) {
    const m = queue.read(options);
    const at = m.at >>> 2;
    const [kind, seq, end] = [view[at], view[at + 1], view[at + 15]];
    queue.releaseAt(m.at);
    if (kind === WARM && !primed) {
      primed = true;
      console.log("primed");
    } else if (kind === DATA) {
      if (seq !== end || seq < 0 || seq >= count) throw new Error(`torn or foreign message ${seq}/${end}`);
      if (seen[seq] !== 0) throw new Error(`message ${seq} delivered twice`);
      seen[seq] = 1;
      last = performance.now();
      if (received++ === 0) first = last;
    } else if (kind === STOP) break;
  }
  const seconds = (last - first) / 1000;
  console.log(
    `result ${received > 1 && seconds > 0 ? (received - 1) / seconds : 0} ${received} ${count - received}`,
  );
  segment.close();
}

async function runNatsPublisher(): Promise<void> {
  const [, url, subject, countText] = args;
  const count = Number(countText);
  const nc = await natsConnect(url);
  let go = false;
  watchStdin((line) => (go ||= line === "go"));
  console.log("ready");
  const message = (kind: number, seq: number) => {
    // A fresh buffer per message: the client library keeps it until it is written.
    const bytes = new Uint8Array(MESSAGE);
    stampMessage(new Int32Array(bytes.buffer), 0, kind, seq);
    return bytes;
  };
  const deadline = Date.now() + PATIENCE_MS;
  for (let warm = 0; !go; warm++) {
    if (Date.now() > deadline) throw new Error(`no "go" within ${PATIENCE_MS} ms`);
    nc.publish(subject, message(WARM, warm));
    await sleep(10);
  }
  for (let i = 0; i < count; i++) {
    nc.publish(subject, message(DATA, i));
    // The loop yields to let the client write; the flush's round trip also keeps the server's buffers short.
    if ((i & 1023) === 1023) await nc.flush();
  }
  nc.publish(subject, message(STOP, count));
  await nc.flush();
  await nc.close();
  process.exit(0);
}

async function runNatsSubscriber(): Promise<void> {
  const [, url, subject, countText] = args;
  const count = Number(countText);
  const nc = await natsConnect(url);
  const tally = new Tally();
  let primed = false;
  let idle: ReturnType<typeof setTimeout> | undefined;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const fail = setTimeout(() => {
    console.error(`nats-subscriber: nothing within ${PATIENCE_MS} ms`);
    process.exit(1);
  }, PATIENCE_MS);
  nc.subscribe(subject, {
    callback: (_error, msg) => {
      // msg.data may start at any offset: read it through a DataView, as a copy would cost the baseline.
      const data = msg.data;
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const kind = view.getInt32(0, true);
      if (kind === DATA) {
        try {
          tally.data(view.getInt32(4, true), view.getInt32(60, true));
        } catch (error) {
          // The client library would swallow a throw from a callback: the run fails instead.
          console.error(`nats-subscriber: ${(error as Error).message}`);
          process.exit(1);
        }
        clearTimeout(idle);
        idle = setTimeout(done, 10_000);
      } else if (kind === WARM && !primed) {
        primed = true;
        clearTimeout(fail);
        console.log("primed");
      } else if (kind === STOP) done();
    },
  });
  await nc.flush();
  watchStdin(() => {});
  console.log("ready");
  await finished;
  clearTimeout(idle);
  tally.finish(count);
  await nc.close();
  process.exit(0);
}

const roles: Record<string, () => void | Promise<void>> = {
  bridge: runBridge,
  client: runClient,
  server: runServer,
  "relay-echo": runRelayEcho,
  "async-client": runAsyncClient,
  "nats-client": runNatsClient,
  "nats-responder": runNatsResponder,
  publisher: runPublisher,
  subscriber: runSubscriber,
  producer: runProducer,
  consumer: runConsumer,
  "nats-publisher": runNatsPublisher,
  "nats-subscriber": runNatsSubscriber,
};
const run = roles[role];
if (run === undefined) throw new Error(`unknown role ${role}: ${Object.keys(roles).join(", ")}`);
await run();
