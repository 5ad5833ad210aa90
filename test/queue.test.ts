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

const test = suite(`Queue (${runtime})`);
test.after.each(cleanup);
test.after(cleanup);

const others = RUNTIMES.filter((rt) => rt !== runtime);

test("trySend() returns false when full, tryReceive()/tryRead() null when empty", () => {
  const name = uniqueName("queue-full");
  using segment = Segment.create(name, { size: 1 << 20 });
  const queue = segment.queue("q", { slotSize: 32, slots: 4 });
  assert.is(queue.tryReceive(), null);
  assert.is(queue.tryRead(), null);
  for (let i = 0; i < 4; i++) assert.ok(queue.trySend(`m${i}`), `message ${i} fits`);
  assert.not.ok(queue.trySend("m4"), "a full queue says false");
  assert.is(queue.tryClaimAt(), -1, "tryClaimAt() says -1 when full");
  assert.is(queue.stats().length, 4);
  for (let i = 0; i < 4; i++) assert.is(decodeText(queue.tryReceive()!), `m${i}`, "first in, first out");
  assert.is(queue.tryReceive(), null, "empty again");
  segment.unlink();
});

test("a message longer than slotSize throws TooLarge and claims nothing", () => {
  const name = uniqueName("queue-large");
  using segment = Segment.create(name, { size: 1 << 20 });
  const queue = segment.queue("q", { slotSize: 32, slots: 4 });
  throwsCode(() => queue.send(new Uint8Array(33), { timeoutMs: 10 }), "TooLarge", "send");
  throwsCode(() => queue.trySend("x".repeat(33)), "TooLarge", "trySend");
  assert.is(queue.stats().enqueued, 0, "nothing was claimed");
  queue.send(new Uint8Array(32).fill(1), { timeoutMs: 10 });
  assert.equal(queue.receive({ timeoutMs: 10 }), new Uint8Array(32).fill(1));
  segment.unlink();
});

test("read() on an empty and send() on a full queue throw Timeout", () => {
  const name = uniqueName("queue-timeout");
  using segment = Segment.create(name, { size: 1 << 20 });
  const queue = segment.queue("q", { slotSize: 8, slots: 2 });
  for (const wait of ["adaptive", "spin", "park"] as const) {
    throwsCode(() => queue.read({ timeoutMs: 20, wait }), "Timeout", `read (${wait})`);
  }
  queue.send("a", { timeoutMs: 10 });
  queue.send("b", { timeoutMs: 10 });
  for (const wait of ["adaptive", "spin", "park"] as const) {
    throwsCode(() => queue.send("c", { timeoutMs: 20, wait }), "Timeout", `send (${wait})`);
  }
  segment.unlink();
});

test("zero-copy: claimAt/commit and read/release; an aborted claim is skipped", () => {
  const name = uniqueName("queue-zero");
  using segment = Segment.create(name, { size: 1 << 20 });
  const queue = segment.queue("q", { slotSize: 16, slots: 8 });
  const a = queue.claimAt({ timeoutMs: 10 });
  const b = queue.claimAt({ timeoutMs: 10 });
  queue.bytes.set([1, 2, 3], b);
  queue.commit(b, 3, 7);
  assert.is(queue.tryRead(), null, "an uncommitted earlier claim holds consumers back (FIFO)");
  queue.abort(a);
  const message = queue.read({ timeoutMs: 10 });
  assert.equal([...message.bytes], [1, 2, 3]);
  assert.is(message.type, 7);
  message.release();
  throwsCode(() => queue.release(message.at), "NotOwner", "a second release");
  segment.unlink();
});

test("readAsync() and sendAsync() wait without blocking the event loop", async () => {
  const name = uniqueName("queue-async");
  using segment = Segment.create(name, { size: 1 << 20 });
  const queue = segment.queue("q", { slotSize: 16, slots: 2 });
  for (const wait of ["adaptive", "spin", "park"] as const) {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    setTimeout(() => queue.send(`late ${wait}`, { timeoutMs: 1000 }), 30);
    const message = await within(queue.receiveAsync({ timeoutMs: 5000, wait }), 10_000, "receiveAsync");
    clearInterval(ticker);
    assert.is(decodeText(message), `late ${wait}`);
    assert.ok(ticks > 0, "timers ran meanwhile");
  }
  queue.send("1", { timeoutMs: 10 });
  queue.send("2", { timeoutMs: 10 });
  setTimeout(() => queue.receive({ timeoutMs: 1000 }), 30);
  await within(queue.sendAsync("3", { timeoutMs: 5000 }), 10_000, "sendAsync");
  assert.is(decodeText(queue.receive({ timeoutMs: 10 })), "2");
  assert.is(decodeText(queue.receive({ timeoutMs: 10 })), "3");
  segment.unlink();
});

test("a corrupt geometry gives Corrupt on use and on open", () => {
  const name = uniqueName("queue-corrupt");
  using segment = Segment.create(name, { size: 1 << 20 });
  const queue = segment.queue("q", { slotSize: 16, slots: 8 });
  // slots is the second word of the queue object (wasm/queue/layout.ts layout).
  segment.view().setUint32(offsetOf(segment, "q") + 4, 1 << 20, true);
  throwsCode(() => queue.tryRead(), "Corrupt", "read");
  throwsCode(() => queue.trySend("x"), "Corrupt", "send");
  throwsCode(() => Segment.open(name), "Corrupt", "open");
  segment.unlink();
});

test("a consumer killed holding a message, or a producer killed holding a claim, stalls nobody", async () => {
  const name = uniqueName("queue-crash");
  using segment = Segment.create(name, { size: 1 << 20 });
  const queue = segment.queue("q", { slotSize: 16, slots: 2 });
  queue.send("a", { timeoutMs: 10 });
  queue.send("b", { timeoutMs: 10 });
  const reader = startFixture(others[0], "queue_holder", [name, "read"], 60_000);
  let writer: ReturnType<typeof startFixture> | undefined;
  try {
    await reader.line(/holding/);
    throwsCode(() => queue.send("c", { timeoutMs: 50 }), "Timeout", "full while the reader holds its slot");
    reader.kill("SIGKILL");
    await reader.done;
    queue.send("c", { timeoutMs: 5000 });
    assert.is(
      decodeText(queue.receive({ timeoutMs: 10 })),
      "b",
      "the dead reader's message is gone, the rest remain",
    );
    assert.is(decodeText(queue.receive({ timeoutMs: 10 })), "c");

    writer = startFixture(others[1] ?? others[0], "queue_holder", [name, "claim"], 60_000);
    await writer.line(/holding/);
    queue.send("d", { timeoutMs: 1000 });
    throwsCode(
      () => queue.read({ timeoutMs: 50 }),
      "Timeout",
      "the claim holds consumers back while its writer lives",
    );
    writer.kill("SIGKILL");
    await writer.done;
    assert.is(decodeText(queue.receive({ timeoutMs: 5000 })), "d", "the dead writer's slot is skipped");
    assert.is(queue.tryRead(), null);
  } finally {
    reader.kill("SIGKILL");
    writer?.kill("SIGKILL");
  }
  segment.unlink();
});

test("MPMC: 4 producer and 4 consumer processes of mixed runtimes; every message consumed exactly once", async () => {
  const name = uniqueName("queue-mpmc");
  const per = 25_000;
  const producers = 4;
  const total = per * producers;
  using segment = Segment.create(name, { size: 1 << 20 });
  segment.queue("q", { slotSize: 64, slots: 64 });
  segment.bytes("arrivals", 4);
  segment.bytes("done", 4);
  const seenBytes = segment.bytes("seen", Math.ceil(total / 32) * 4);
  const at = RUNTIMES.indexOf(runtime);
  const mix = (i: number) => RUNTIMES[(at + i) % RUNTIMES.length];
  const consumers = [0, 1, 2, 3].map((i) =>
    runFixture(mix(i + 1), "queue_consumer", [name, String(per), String(total)], 240_000)
  );
  const senders = [0, 1, 2, 3].map((i) =>
    runFixture(mix(i), "queue_producer", [name, String(i), String(per), String(producers)], 240_000)
  );
  const [sent, got] = await within(
    Promise.all([Promise.all(senders), Promise.all(consumers)]),
    250_000,
    "MPMC",
  );
  for (const line of sent) assert.match(line, /sent \d+ 25000/);
  const counts = [0, 0, 0, 0];
  for (const line of got) {
    const match = line.match(/got (\{.*\})/);
    assert.ok(match, `a consumer failed: ${line}`);
    for (const [id, n] of Object.entries(JSON.parse(match![1]) as Record<string, number>)) {
      counts[Number(id)] += n;
    }
  }
  assert.equal(counts, [per, per, per, per], "each producer's messages were all consumed");
  const seen = new Int32Array(segment.memory.buffer, seenBytes.byteOffset, seenBytes.length / 4);
  let missing = 0;
  for (let bit = 0; bit < total; bit++) if ((seen[bit >>> 5] & (1 << (bit & 31))) === 0) missing++;
  assert.is(missing, 0, "every message was seen");
  assert.is(segment.queue("q").tryRead(), null, "nothing is left over");
  segment.unlink();
});

test.run();
