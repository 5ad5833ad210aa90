import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Segment } from "../ts/mod.ts";
import {
  cleanup,
  runFixture,
  type Runtime,
  runtime,
  RUNTIMES,
  startFixture,
  throwsCode,
  uniqueName,
  within,
} from "./helpers.ts";

const test = suite(`locks: rwlock (${runtime})`);
test.after.each(cleanup);

const other: Runtime = RUNTIMES[(RUNTIMES.indexOf(runtime) + 1) % RUNTIMES.length];

function control(segment: Segment): Int32Array {
  return new Int32Array(segment.memory.buffer, segment.bytes("control", 16).byteOffset, 4);
}

/** Resolves once `condition` holds, polling without blocking the loop; rejects after `ms`. */
function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const poll = () => (condition() ? resolve() : setTimeout(poll, 2));
      poll();
    }),
    ms,
    what,
  );
}

test("RwLock: read holds stack up, tryWrite fails while anyone reads, unlocks need a hold", () => {
  const name = uniqueName("rw-basic");
  using segment = Segment.create(name, { size: 65536 });
  const rw = segment.rwlock("rw", { readers: 4 });
  assert.is(rw.readerSlots, 4);
  const first = rw.read({ timeoutMs: 1000 });
  const second = rw.tryRead();
  assert.ok(second !== null, "a second read hold is granted at once");
  assert.is(rw.readers, 2);
  assert.is(rw.tryWrite(), null, "no write while reading");
  first.unlock();
  second!.unlock();
  assert.is(rw.readers, 0);
  throwsCode(() => rw.readUnlock(), "NotOwner", "read unlock without a hold");
  throwsCode(() => rw.writeUnlock(), "NotOwner", "write unlock without the lock");
  const w = rw.tryWrite();
  assert.ok(w !== null && !w.ownerDied, "write when free");
  assert.is(rw.writer, process.pid);
  assert.is(rw.tryRead(), null, "no read while written");
  w!.unlock();
  assert.is(rw.writer, 0);
  segment.unlink();
});

test("RwLock.write() times out while a read is held, and the abandoned claim lets readers in again", async () => {
  const name = uniqueName("rw-timeout");
  using segment = Segment.create(name, { size: 65536 });
  const rw = segment.rwlock("rw");
  const reading = rw.read();
  throwsCode(() => rw.write({ timeoutMs: 30 }), "Timeout", "blocking write");
  assert.is(rw.writer, 0, "the claim was given up");
  let code = "";
  await within(rw.writeAsync({ timeoutMs: 30 }).catch((e) => (code = e.code)), 5000, "writeAsync");
  assert.is(code, "Timeout", "writeAsync rejects with Timeout");
  assert.is(rw.writer, 0, "the async claim was given up too");
  // A time-out of 0 and the spin mode never park: the claim their first step made must go too.
  throwsCode(() => rw.write({ timeoutMs: 0 }), "Timeout", "write with timeout 0");
  assert.is(rw.writer, 0, "the claim of a write with timeout 0 was given up");
  throwsCode(() => rw.write({ timeoutMs: 20, wait: "spin" }), "Timeout", "spinning write");
  assert.is(rw.writer, 0, "the claim of a spinning write was given up");
  code = "";
  await within(rw.writeAsync({ timeoutMs: 0 }).catch((e) => (code = e.code)), 5000, "writeAsync, timeout 0");
  assert.is(code, "Timeout", "writeAsync with timeout 0 rejects with Timeout");
  assert.is(rw.writer, 0, "the claim of an async write with timeout 0 was given up");
  reading.unlock();
  const again = rw.tryRead();
  assert.ok(again !== null, "readers get in after the time-outs");
  again!.unlock();
  const writing = rw.write();
  throwsCode(() => rw.read({ timeoutMs: 30 }), "Timeout", "blocking read while written");
  code = "";
  await within(rw.readAsync({ timeoutMs: 30 }).catch((e) => (code = e.code)), 5000, "readAsync");
  assert.is(code, "Timeout", "readAsync rejects with Timeout");
  writing.unlock();
  segment.unlink();
});

test("RwLock async waits leave the event loop running, for reads and for writes", async () => {
  const name = uniqueName("rw-async");
  using segment = Segment.create(name, { size: 65536 });
  const rw = segment.rwlock("rw");
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    const writing = rw.write();
    setTimeout(() => writing.unlock(), 150);
    const reading = await within(rw.readAsync({ timeoutMs: 10_000 }), 15_000, "readAsync");
    assert.ok(ticks >= 3, `only ${ticks} ticks while readAsync waited for the writer`);
    ticks = 0;
    setTimeout(() => reading.unlock(), 150);
    const w = await within(rw.writeAsync({ timeoutMs: 10_000 }), 15_000, "writeAsync");
    assert.ok(ticks >= 3, `only ${ticks} ticks while writeAsync waited for the reader`);
    assert.is(w.ownerDied, false);
    w.unlock();
  } finally {
    clearInterval(timer);
  }
  segment.unlink();
});

test("a waiting writer keeps new readers out (no writer starvation), but not a nested read", async () => {
  const name = uniqueName("rw-prefer");
  using segment = Segment.create(name, { size: 65536 });
  const rw = segment.rwlock("lock");
  const go = control(segment);
  const reading = rw.read();
  const writer = startFixture(other, "lock_holder", [name, "write"], 60_000);
  let probe: ReturnType<typeof startFixture> | undefined;
  try {
    await writer.line(/^ready/);
    Atomics.store(go, 0, 1);
    await until(() => rw.writer === writer.pid, 10_000, "the writer's claim");
    const nested = rw.tryRead();
    assert.ok(nested !== null, "a process that already reads may read again");
    nested!.unlock();
    probe = startFixture(runtime, "lock_holder", [name, "tryRead"], 60_000);
    assert.is(await probe.line(/^(null|held)/), "null", "a new reader is kept out while a writer waits");
    reading.unlock();
    await writer.line(/^held/, 10_000);
    assert.is(rw.tryRead(), null, "the writer holds it now");
    Atomics.store(go, 0, 2);
    const [w] = await within(Promise.all([writer.done, probe.done]), 20_000, "writer and probe exit");
    assert.is(w.code, 0, w.stderr);
    assert.is(rw.writer, 0);
  } finally {
    writer.kill("SIGKILL");
    probe?.kill("SIGKILL");
  }
  segment.unlink();
});

test("a reader beyond the reader slots waits until a slot frees", async () => {
  const name = uniqueName("rw-slots");
  using segment = Segment.create(name, { size: 65536 });
  const rw = segment.rwlock("lock", { readers: 1 });
  const go = control(segment);
  const reading = rw.read();
  const reader = startFixture(other, "lock_holder", [name, "read"], 60_000);
  try {
    await reader.line(/^ready/);
    Atomics.store(go, 0, 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.is(rw.readers, 1, "the second process has no slot yet");
    reading.unlock();
    await reader.line(/^held/, 10_000);
    assert.is(rw.readers, 1, "it reads in the freed slot");
    Atomics.store(go, 0, 2);
    assert.is((await within(reader.done, 20_000, "reader exit")).code, 0);
  } finally {
    reader.kill("SIGKILL");
  }
  segment.unlink();
});

test("read holds of processes of three runtimes overlap", async () => {
  const name = uniqueName("rw-overlap");
  using segment = Segment.create(name, { size: 65536 });
  segment.rwlock("rw");
  segment.bytes("overlap", 16);
  const outputs = await within(
    Promise.all(RUNTIMES.map((rt) => runFixture(rt, "lock_overlap", [name, "3"], 60_000))),
    70_000,
    "three overlapping readers",
  );
  for (const out of outputs) assert.match(out, /overlap 3/);
  segment.unlink();
});

test("random reads and writes from three runtimes: writers exclusive, readers never see a writer", async () => {
  const name = uniqueName("rw-mix");
  using segment = Segment.create(name, { size: 65536 });
  segment.rwlock("rw");
  const bytes = segment.bytes("value", 8);
  const cells = new Int32Array(segment.memory.buffer, segment.bytes("cells", 32).byteOffset, 8);
  const outputs = await within(
    Promise.all(
      RUNTIMES.map((rt, i) => runFixture(rt, "lock_rw_mix", [name, "4000", "3", String(i + 7)], 120_000)),
    ),
    130_000,
    "three mixed workers",
  );
  let writes = 0;
  for (const out of outputs) writes += Number(/writes (\d+)/.exec(out)![1]);
  assert.is(Atomics.load(cells, 3), 0, "no invariant was violated");
  assert.is(
    new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true),
    writes,
    "every write counted once",
  );
  assert.ok(writes > 0);
  console.log(`      rw-mix: ${writes} writes, at most ${Atomics.load(cells, 4)} readers inside at once`);
  segment.unlink();
});

test("processes of all three runtimes add 100,000 each under the write lock (every 4th via writeAsync): exact total", async () => {
  const name = uniqueName("rw-count");
  using segment = Segment.create(name, { size: 65536 });
  const bytes = segment.bytes("counter", 8);
  segment.bytes("sync", 64);
  segment.rwlock("lock");
  const iterations = 100_000;
  await within(
    Promise.all(
      RUNTIMES.map((rt) =>
        runFixture(rt, "lock_counter", [name, "write-async", String(iterations), "3"], 120_000)
      ),
    ),
    130_000,
    "three writers",
  );
  assert.is(new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true), iterations * 3);
  assert.is(segment.rwlock("lock").writer, 0);
  segment.unlink();
});

test.run();
