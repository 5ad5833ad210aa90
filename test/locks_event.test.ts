import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Segment } from "../ts/mod.ts";
import {
  cleanup,
  runFixture,
  type Runtime,
  runtime,
  RUNTIMES,
  throwsCode,
  uniqueName,
  within,
} from "./helpers.ts";

const test = suite(`locks: event (${runtime})`);
test.after.each(cleanup);

const other: Runtime = RUNTIMES[(RUNTIMES.indexOf(runtime) + 1) % RUNTIMES.length];

test("Event: a notify after the sequence was read makes wait return at once; without one it times out", async () => {
  const name = uniqueName("event-basic");
  using segment = Segment.create(name, { size: 65536 });
  const event = segment.event("e");
  const seen = event.sequence;
  assert.is(event.tryWait(seen), false, "nothing happened yet");
  assert.is(event.notify(), 0, "nobody was asleep to wake");
  assert.is(event.tryWait(seen), true);
  event.wait(seen, { timeoutMs: 0 });
  await within(event.waitAsync(seen, { timeoutMs: 0 }), 5000, "waitAsync of a moved sequence");
  throwsCode(() => event.wait(event.sequence, { timeoutMs: 30 }), "Timeout", "wait without a notify");
  let code = "";
  await within(
    event.waitAsync(event.sequence, { timeoutMs: 30 }).catch((e) => (code = e.code)),
    5000,
    "waitAsync",
  );
  assert.is(code, "Timeout", "waitAsync rejects with Timeout");
  assert.is(event.sleepers, 0, "a timed-out wait leaves no sleeper registered");
  throwsCode(
    () => event.waitUntil(() => false, { timeoutMs: 30 }),
    "Timeout",
    "waitUntil of a false condition",
  );
  assert.throws(() => event.wait(-1), RangeError);
  segment.unlink();
});

test("Event async waits leave the event loop running; notifyAll wakes every waiter, notify at least one", async () => {
  const name = uniqueName("event-async");
  using segment = Segment.create(name, { size: 65536 });
  const event = segment.event("e");
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    const seen = event.sequence;
    let woken = 0;
    const waiters = [0, 1, 2].map(() => event.waitAsync(seen, { timeoutMs: 10_000 }).then(() => woken++));
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.ok(ticks >= 3, `only ${ticks} ticks while three waits were pending`);
    assert.is(woken, 0, "nobody returns before the notify");
    event.notifyAll();
    await within(Promise.all(waiters), 10_000, "three waiters after notifyAll");
    assert.is(woken, 3);
    const next = event.sequence;
    const one = event.waitAsync(next, { timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    event.notify();
    await within(one, 10_000, "one waiter after notify");
    let flag = false;
    setTimeout(() => {
      flag = true;
      event.notify();
    }, 50);
    await within(event.waitUntilAsync(() => flag, { timeoutMs: 10_000 }), 15_000, "waitUntilAsync");
  } finally {
    clearInterval(timer);
  }
  assert.is(event.sleepers, 0);
  segment.unlink();
});

for (const mode of ["park", "spin"]) {
  test(`no lost wake-up: 100,000 ping-pong rounds between a ${runtime} and a ${other} process (${mode})`, async () => {
    const name = uniqueName("event-pingpong");
    using segment = Segment.create(name, { size: 65536 });
    segment.event("ball-moved");
    const ball = new Int32Array(segment.memory.buffer, segment.bytes("ball", 16).byteOffset, 4);
    const rounds = 100_000;
    const outputs = await within(
      Promise.all([
        runFixture(runtime, "lock_pingpong", [name, "ping", String(rounds), mode], 120_000),
        runFixture(other, "lock_pingpong", [name, "pong", String(rounds), mode], 120_000),
      ]),
      130_000,
      "ping-pong",
    );
    assert.is(Atomics.load(ball, 0), 2 * rounds, "every round was played");
    const ms = Number(/ms (\d+)/.exec(outputs[0])![1]);
    console.log(
      `      ${mode}: ${rounds} rounds in ${ms} ms (${((ms * 1000) / rounds).toFixed(1)} µs per round trip)`,
    );
    segment.unlink();
  });
}

test.run();
