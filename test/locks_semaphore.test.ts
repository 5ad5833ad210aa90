import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Segment } from "../ts/mod.ts";
import { cleanup, runFixture, runtime, RUNTIMES, throwsCode, uniqueName, within } from "./helpers.ts";

const test = suite(`locks: semaphore (${runtime})`);
test.after.each(cleanup);

test("Semaphore: initial value, tryWait, post, Overflow past the maximum, Timeout when empty", async () => {
  const name = uniqueName("sem-basic");
  using segment = Segment.create(name, { size: 65536 });
  const sem = segment.semaphore("s", { initial: 2, maximum: 3 });
  assert.is(sem.value, 2);
  assert.is(sem.maximum, 3);
  assert.ok(sem.tryWait() !== null);
  sem.wait({ timeoutMs: 10 });
  assert.is(sem.value, 0);
  assert.is(sem.tryWait(), null, "tryWait on an empty semaphore");
  throwsCode(() => sem.wait({ timeoutMs: 30 }), "Timeout", "wait on an empty semaphore");
  let code = "";
  await within(sem.waitAsync({ timeoutMs: 30 }).catch((e) => (code = e.code)), 5000, "waitAsync");
  assert.is(code, "Timeout", "waitAsync rejects with Timeout");
  assert.is(sem.sleepers, 0, "a timed-out wait leaves no sleeper registered");
  sem.post(3);
  throwsCode(() => sem.post(), "Overflow", "post past the maximum");
  assert.is(sem.value, 3, "a failed post adds nothing");
  {
    using _permit = sem.wait();
    assert.is(sem.value, 2);
  }
  assert.is(sem.value, 3, "disposing a permit posts it back");
  assert.throws(() => sem.post(0), RangeError);
  assert.throws(() => segment.semaphore("bad", { initial: 5, maximum: 4 }), RangeError);
  throwsCode(() => segment.semaphore("missing", { create: false }), "NotFound", "create: false");
  assert.is(segment.semaphore("s"), sem, "asking twice gives one object");
  segment.unlink();
});

test("Semaphore.waitAsync() leaves the event loop running and takes the permit posted later", async () => {
  const name = uniqueName("sem-async");
  using segment = Segment.create(name, { size: 65536 });
  const sem = segment.semaphore("s");
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    setTimeout(() => sem.post(), 150);
    await within(sem.waitAsync({ timeoutMs: 10_000 }), 15_000, "waitAsync");
    assert.ok(ticks >= 3, `only ${ticks} ticks while waitAsync waited`);
    assert.is(sem.value, 0, "the posted permit was taken");
    assert.is(sem.sleepers, 0);
  } finally {
    clearInterval(timer);
  }
  segment.unlink();
});

test("conservation: random waits and posts from three runtimes end at initial + posts - waits", async () => {
  const name = uniqueName("sem-conserve");
  using segment = Segment.create(name, { size: 65536 });
  const initial = 3;
  const sem = segment.semaphore("sem", { initial });
  segment.bytes("cells", 16);
  const outputs = await within(
    Promise.all(
      RUNTIMES.map((rt, i) => runFixture(rt, "lock_sem", [name, "6000", "3", String(i + 11)], 120_000)),
    ),
    130_000,
    "three random workers",
  );
  let posts = 0;
  let waits = 0;
  for (const out of outputs) {
    const m = /posts (\d+) waits (\d+)/.exec(out)!;
    posts += Number(m[1]);
    waits += Number(m[2]);
  }
  assert.is(sem.value, initial + posts - waits, `initial ${initial} + posts ${posts} - waits ${waits}`);
  assert.is(sem.sleepers, 0, "nobody is left registered as asleep");
  segment.unlink();
});

test("a semaphore of one permit excludes: three runtimes add 50,000 each, exact total", async () => {
  const name = uniqueName("sem-count");
  using segment = Segment.create(name, { size: 65536 });
  const bytes = segment.bytes("counter", 8);
  segment.bytes("sync", 64);
  segment.semaphore("lock", { initial: 1, maximum: 1 });
  await within(
    Promise.all(
      RUNTIMES.map((rt) => runFixture(rt, "lock_counter", [name, "semaphore", "50000", "3"], 120_000)),
    ),
    130_000,
    "three counters",
  );
  assert.is(new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true), 150_000);
  assert.is(segment.semaphore("lock").value, 1, "the permit is back");
  segment.unlink();
});

test.run();
