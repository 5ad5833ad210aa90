import { suite } from "uvu";
import * as assert from "uvu/assert";
import { decodeText, Segment } from "../ts/mod.ts";
import {
  cleanup,
  offsetOf,
  runFixture,
  runtime,
  RUNTIMES,
  startFixture,
  throwsCode,
  uniqueName,
  within,
} from "./helpers.ts";
import { MessageStream } from "./fixtures/ring_common.ts";

const test = suite(`Ring (${runtime})`);
test.after.each(cleanup);
test.after(cleanup);

const others = RUNTIMES.filter((rt) => rt !== runtime);
// Each parent runtime runs one ordered pair; the three runs cover deno->node, node->bun, bun->deno.
const producerRuntime = RUNTIMES[RUNTIMES.indexOf(runtime)];
const consumerRuntime = RUNTIMES[(RUNTIMES.indexOf(runtime) + 1) % RUNTIMES.length];

test("trySend() returns false when full, tryReceive()/tryRead() null when empty", () => {
  const name = uniqueName("ring-full");
  using segment = Segment.create(name, { size: 1 << 20 });
  const ring = segment.ring("r", { capacity: 1024 });
  assert.is(ring.tryReceive(), null, "a new ring is empty");
  assert.is(ring.tryRead(), null);
  let sent = 0;
  while (ring.trySend(new Uint8Array(100).fill(sent))) sent++;
  // 100-byte payloads take 112-byte records: 9 fit in 1024 bytes.
  assert.is(sent, 9, "the ring holds as many records as fit");
  assert.is(ring.tryClaimAt(100), -1, "tryClaimAt() says -1 when full");
  assert.is(ring.tryClaim(100), null);
  assert.is(ring.stats().used, 9 * 112);
  for (let i = 0; i < sent; i++) assert.equal(ring.tryReceive(), new Uint8Array(100).fill(i), `message ${i}`);
  assert.is(ring.tryReceive(), null, "empty again");
  assert.ok(ring.trySend("after"), "room again once released");
  segment.unlink();
});

test("a message longer than capacity / 2 - 8 throws TooLarge and leaves the ring usable", () => {
  const name = uniqueName("ring-large");
  using segment = Segment.create(name, { size: 1 << 20 });
  const ring = segment.ring("r", { capacity: 1024 });
  assert.is(ring.maxMessage, 504);
  throwsCode(() => ring.send(new Uint8Array(505), { timeoutMs: 10 }), "TooLarge", "send");
  throwsCode(() => ring.trySend(new Uint8Array(505)), "TooLarge", "trySend");
  throwsCode(() => ring.tryClaimAt(1 << 20), "TooLarge", "tryClaimAt");
  assert.throws(() => ring.tryClaimAt(-1), RangeError, "a negative length is misuse");
  assert.throws(() => ring.tryClaimAt(NaN), RangeError, "NaN is misuse");
  assert.throws(() => ring.tryClaimAt(1.5), RangeError, "a fraction is misuse");
  assert.throws(() => ring.trySend("x", -1), RangeError, "a negative type is misuse");
  ring.send(new Uint8Array(504).fill(7), { timeoutMs: 10 });
  assert.equal(ring.receive({ timeoutMs: 10 }), new Uint8Array(504).fill(7), "the largest message fits");
  segment.unlink();
});

test("read() and receive() on an empty ring throw Timeout after timeoutMs", () => {
  const name = uniqueName("ring-timeout");
  using segment = Segment.create(name, { size: 1 << 20 });
  const ring = segment.ring("r", { capacity: 1024 });
  for (const wait of ["adaptive", "spin", "park"] as const) {
    throwsCode(() => ring.read({ timeoutMs: 20, wait }), "Timeout", `read (${wait})`);
    throwsCode(() => ring.receive({ timeoutMs: 0, wait }), "Timeout", `receive (${wait})`);
  }
  segment.unlink();
});

test("records of every length wrap around the end intact, through claim/commit and read/release", () => {
  const name = uniqueName("ring-wrap");
  using segment = Segment.create(name, { size: 1 << 20 });
  const ring = segment.ring("r", { capacity: 4096 });
  const out = new MessageStream(7);
  const back = new MessageStream(7);
  const memory = new Uint8Array(segment.memory.buffer);
  const words = new Int32Array(segment.memory.buffer);
  const base = segment.constants.SEGMENT_BASE;
  for (let i = 0; i < 5000; i++) {
    do out.next(); while (out.length > ring.maxMessage);
    const at = ring.claimAt(out.length, { type: out.type, timeoutMs: 100 });
    out.write(ring.bytes, at);
    assert.is(ring.tryRead(), null, "nothing is visible before commit");
    assert.is(ring.commit(), 1);
    do back.next(); while (back.length > ring.maxMessage);
    const record = ring.read({ timeoutMs: 100 });
    const problem = back.check(memory, words, base + record.at, record.length, record.type);
    assert.is(problem, null);
    ring.release();
  }
  assert.is(ring.stats().committed, 5000);
  segment.unlink();
});

test("claims pile up until one commit publishes them all; abort() drops them", () => {
  const name = uniqueName("ring-batch");
  using segment = Segment.create(name, { size: 1 << 20 });
  const ring = segment.ring("r", { capacity: 1024 });
  for (let i = 0; i < 5; i++) ring.claim(8, { timeoutMs: 10 }).fill(i);
  assert.is(ring.stats().claimed, 5 * 16);
  assert.is(ring.tryRead(), null, "claimed records stay invisible");
  assert.is(ring.commit(), 5);
  ring.claim(8, { timeoutMs: 10 }).fill(99);
  ring.abort();
  assert.is(ring.stats().claimed, 0);
  assert.is(ring.readMany(), 5, "one readMany() hands out the whole batch");
  for (let i = 0; i < 5; i++) {
    assert.is(ring.batch[3 * i + 1], 8);
    assert.is(ring.bytes[ring.batch[3 * i]], i);
  }
  ring.release();
  assert.is(ring.tryRead(), null, "the aborted claim never appears");
  segment.unlink();
});

test("tryClaimMany() claims contiguous fixed-size records up to the wrap point", () => {
  const name = uniqueName("ring-many");
  using segment = Segment.create(name, { size: 1 << 20 });
  const ring = segment.ring("r", { capacity: 1024 });
  let total = 0;
  for (let round = 0; round < 20; round++) {
    const n = ring.tryClaimMany(10, 24, 5);
    assert.ok(n >= 1 && n <= 10, `claimed ${n}`);
    for (let i = 0; i < n; i++) {
      ring.bytes.fill(
        (total + i) & 255,
        ring.claimedAt + i * ring.claimedStride,
        ring.claimedAt + i * ring.claimedStride + 24,
      );
    }
    ring.commit();
    let got = 0;
    while (got < n) {
      const m = ring.readMany(64);
      for (let i = 0; i < m; i++) {
        assert.is(ring.batch[3 * i + 2], 5, "type");
        assert.is(ring.bytes[ring.batch[3 * i] + 23], (total + got + i) & 255, "payload");
      }
      got += m;
      ring.release();
    }
    total += n;
  }
  const n = ring.tryClaimMany(1000, 24);
  const dataEnd = offsetOf(segment, ring.name) + segment.constants.RING_DATA + ring.capacity;
  assert.ok(n >= 1 && n <= 1024 / 32, `a batch never exceeds the ring (${n})`);
  assert.ok(
    ring.claimedAt + (n - 1) * ring.claimedStride + 24 <= dataEnd,
    "a batch stops at the end of the data",
  );
  ring.commit();
  ring.readMany();
  ring.release();
  const m = ring.tryClaimMany(1000, 24);
  assert.ok(n + m >= 1024 / 32 - 1, "the rest follows from the start");
  ring.abort();
  segment.unlink();
});

test("a batch read hands out the good records before a corrupt one, then Corrupt; a batch claim stops at the free space", () => {
  using segment = Segment.create(uniqueName("ring-batch-edges"), { size: 1 << 20 });
  const ring = segment.ring("r", { capacity: 1024 });
  const data = offsetOf(segment, "r") + segment.constants.RING_DATA;
  const words = new DataView(ring.bytes.buffer, ring.bytes.byteOffset);
  // 24-byte payloads: 32-byte records, 32 to the ring.
  assert.is(ring.tryClaimMany(30, 24, 7), 30);
  ring.commit();
  assert.is(ring.readMany(64), 30);
  ring.release();
  // Head 960: two records to the end of the data, the second ending exactly there.
  assert.is(ring.tryClaimMany(100, 24, 7), 2, "a batch ends where the data ends");
  ring.commit();
  // The producer's cached head (960) is short of room for a whole ring; the consumer frees it meanwhile.
  assert.is(ring.readMany(64), 2);
  ring.release();
  assert.is(ring.tryClaimMany(100, 24, 7), 32, "the claim re-read head and took the whole ring");
  assert.is(ring.claimedAt, data + 8);
  ring.commit();
  assert.is(ring.readMany(10), 10);
  ring.release();
  // 22 records unreleased, 10 free bytes' worth: a batch takes what is free and no more.
  assert.is(ring.tryClaimMany(100, 24, 7), 10, "only the free space");
  ring.commit();
  // Unread: 22 records at indices 320..1024, then the 10 new ones at 0..320.
  // Mark the 4th unread one as still IN_PROGRESS, as a hostile producer could.
  const fourth = data + 320 + 3 * 32;
  words.setUint32(fourth, words.getUint32(fourth, true) | 0x80000000, true);
  assert.is(ring.readMany(64), 3, "the good records before the corrupt one");
  for (let i = 0; i < 3; i++) assert.is(ring.batch[3 * i], data + 320 + i * 32 + 8, "in place");
  ring.release();
  throwsCode(() => ring.readMany(64), "Corrupt", "the corrupt record");
  segment.unlink();
});

test("receiveAsync() waits without blocking the event loop", async () => {
  const name = uniqueName("ring-async");
  using segment = Segment.create(name, { size: 1 << 20 });
  const ring = segment.ring("r", { capacity: 1024 });
  for (const wait of ["adaptive", "spin", "park"] as const) {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    setTimeout(() => ring.send(`late ${wait}`, { timeoutMs: 1000 }), 30);
    const message = await within(ring.receiveAsync({ timeoutMs: 5000, wait }), 10_000, "receiveAsync");
    clearInterval(ticker);
    assert.is(decodeText(message), `late ${wait}`);
    assert.ok(ticks > 0, "timers ran while receiveAsync waited");
  }
  const timedOut = await ring.readAsync({ timeoutMs: 20 }).then(() => "no error", (e) => e.code);
  assert.is(timedOut, "Timeout", "readAsync() times out too");
  segment.unlink();
});

test("a corrupt capacity gives Corrupt, on use and on open", () => {
  const name = uniqueName("ring-corrupt");
  using segment = Segment.create(name, { size: 1 << 20 });
  const ring = segment.ring("r", { capacity: 1024 });
  ring.send("x", { timeoutMs: 10 });
  // The capacity is the first word of the ring object (wasm/ring/layout.ts layout).
  segment.view().setUint32(offsetOf(segment, ring.name), 1 << 30, true);
  throwsCode(() => ring.tryRead(), "Corrupt", "a read over a capacity past the segment");
  throwsCode(() => ring.trySend("y"), "Corrupt", "a claim over a capacity past the segment");
  throwsCode(() => Segment.open(name), "Corrupt", "opening the segment");
  segment.view().setUint32(offsetOf(segment, ring.name), 1000, true);
  throwsCode(() => ring.tryRead(), "Corrupt", "a capacity that is not a power of two");
  segment.unlink();
});

test(`integrity: 1,000,000 messages of 0 to 8 KiB from a ${producerRuntime} producer process to a ${consumerRuntime} consumer process`, async () => {
  const producer = producerRuntime;
  const consumer = consumerRuntime;
  const name = uniqueName("ring-integrity");
  using segment = Segment.create(name, { size: 1 << 20 });
  segment.ring("data", { capacity: 1 << 18 });
  const count = "1000000";
  const [received, sent] = await within(
    Promise.all([
      runFixture(consumer, "ring_consumer", [name, count, "20240601"], 240_000),
      runFixture(producer, "ring_producer", [name, count, "20240601"], 240_000),
    ]),
    250_000,
    "the integrity pair",
  );
  assert.match(received, /received 1000000 \d+/, `${consumer} consumer: ${received}`);
  assert.match(sent, /sent 1000000 \d+/);
  const stats = segment.ring("data").stats();
  assert.is(stats.committed, 1_000_000);
  assert.is(stats.read, 1_000_000);
  assert.is(stats.used, 0, "everything was released");
  console.log(
    `      ${producer} -> ${consumer}: ${sent.trim().split("\n").pop()} ms; ${
      received.trim().split("\n").pop()
    } ms`,
  );
  segment.unlink();
});

test("a producer killed between claim and commit: no torn record, PeerDied once, and the next producer carries on", async () => {
  const name = uniqueName("ring-torn");
  using segment = Segment.create(name, { size: 4 << 20 });
  // Large enough for every message the torn producers send before they stop.
  const ring = segment.ring("data", { capacity: 1 << 20 });
  const memory = new Uint8Array(segment.memory.buffer);
  const words = new Int32Array(segment.memory.buffer);
  const base = segment.constants.SEGMENT_BASE;
  // Async, so that the producer processes can run while this one consumes.
  const check = async (stream: MessageStream, count: number) => {
    for (let i = 0; i < count; i++) {
      stream.next();
      const record = await ring.readAsync({ timeoutMs: 10_000 });
      assert.is(stream.check(memory, words, base + record.at, record.length, record.type), null);
      ring.release();
    }
  };
  ring.attachConsumer();

  // 1. Killed mid-claim while the consumer waits: it gets PeerDied, never the torn record.
  const torn = startFixture(others[0], "ring_torn", [name, "100", "11"], 60_000);
  await torn.line(/claimed/, 30_000);
  await check(new MessageStream(11), 100);
  throwsCode(() => ring.attachProducer(), "Exists", "a second producer while the first lives");
  assert.ok(ring.stats().claimed > 0, "the claim is pending");
  torn.kill("SIGKILL");
  await torn.done;
  throwsCode(() => ring.read({ timeoutMs: 10_000 }), "PeerDied", "read after the producer died");
  assert.is(ring.tryRead(), null, "the torn record is never handed out");
  assert.is(ring.stats().producerPid, 0, "the dead producer is forgotten once reported");

  // 2. A producer of another runtime attaches and carries on.
  const producer = startFixture(others[1] ?? others[0], "ring_producer", [name, "2000", "12"], 60_000);
  await check(new MessageStream(12), 2000);
  const out = (await producer.done).stdout;
  assert.match(out, /attached false/);

  // 3. Killed mid-claim with nobody waiting: the next producer takes the role over.
  const torn2 = startFixture(others[0], "ring_torn", [name, "50", "13"], 60_000);
  await torn2.line(/claimed/, 30_000);
  torn2.kill("SIGKILL");
  await torn2.done;
  const producer2 = startFixture(others[1] ?? others[0], "ring_producer", [name, "500", "14"], 60_000);
  // Read only once it has attached: a reader waiting before would report the death (case 1).
  await producer2.line(/attached/, 30_000);
  await check(new MessageStream(13), 50);
  await check(new MessageStream(14), 500);
  const out2 = (await producer2.done).stdout;
  assert.match(out2, /attached true/, "the new producer took over from the dead one");
  assert.is(ring.tryRead(), null, "nothing else: no torn record");
  segment.unlink();
});

test.run();
