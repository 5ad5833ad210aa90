import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Segment } from "../ts/mod.ts";
import { cleanup, runFixture, runtime, RUNTIMES, throwsCode, uniqueName, within } from "./helpers.ts";

const test = suite(`locks: mutex (${runtime})`);
test.after.each(cleanup);

/** Counts setInterval ticks while `work` runs: proof that the event loop kept turning. */
async function ticksDuring<T>(work: Promise<T>): Promise<{ value: T; ticks: number }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    return { value: await work, ticks };
  } finally {
    clearInterval(timer);
  }
}

test("Mutex.lock() with timeoutMs throws Timeout while the mutex is held", async () => {
  const name = uniqueName("mutex-timeout");
  using segment = Segment.create(name, { size: 65536 });
  const mutex = segment.mutex("m");
  const held = mutex.lock({ timeoutMs: 1000 });
  throwsCode(() => mutex.lock({ timeoutMs: 30 }), "Timeout", "blocking lock");
  assert.is(mutex.tryLock(), null, "tryLock returns null while held");
  let rejected = "";
  await within(mutex.lockAsync({ timeoutMs: 30 }).catch((e) => (rejected = e.code)), 5000, "lockAsync");
  assert.is(rejected, "Timeout", "lockAsync rejects with Timeout");
  held.unlock();
  assert.is(mutex.holder, 0, "free after the time-outs");
  throwsCode(() => mutex.unlock(), "NotOwner", "unlock of a free mutex");
  segment.unlink();
});

test("Mutex.lockAsync() leaves the event loop running while it waits", async () => {
  const name = uniqueName("mutex-async");
  using segment = Segment.create(name, { size: 65536 });
  const mutex = segment.mutex("m");
  const held = mutex.lock();
  setTimeout(() => held.unlock(), 150);
  const { value: guard, ticks } = await ticksDuring(
    within(mutex.lockAsync({ timeoutMs: 10_000 }), 15_000, "lockAsync"),
  );
  assert.ok(ticks >= 3, `the interval ticked only ${ticks} times while lockAsync waited`);
  assert.is(guard.ownerDied, false);
  guard.unlock();
  segment.unlink();
});

test("processes of all three runtimes add 100,000 each under one mutex (every 4th via lockAsync): exact total", async () => {
  const name = uniqueName("mutex-count");
  using segment = Segment.create(name, { size: 65536 });
  const bytes = segment.bytes("counter", 8);
  segment.bytes("sync", 64);
  segment.mutex("lock");
  const iterations = 100_000;
  const runs = RUNTIMES.map((rt) =>
    runFixture(rt, "lock_counter", [name, "mutex-async", String(iterations), "3"], 120_000)
  );
  await within(Promise.all(runs), 130_000, "three counters");
  const total = new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true);
  assert.is(total, iterations * RUNTIMES.length, "every increment counted exactly once");
  assert.is(segment.mutex("lock").holder, 0, "the mutex is free at the end");
  segment.unlink();
});

test.run();
