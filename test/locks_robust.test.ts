import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Segment } from "../ts/mod.ts";
import {
  type Child,
  cleanup,
  type Runtime,
  runtime,
  RUNTIMES,
  startFixture,
  throwsCode,
  uniqueName,
  within,
} from "./helpers.ts";

const test = suite(`locks: robustness (${runtime})`);
test.after.each(cleanup);

const other: Runtime = RUNTIMES[(RUNTIMES.indexOf(runtime) + 1) % RUNTIMES.length];
/** Kill-and-take-over rounds per lock kind (the issue asks for 50). */
const ROUNDS = Number(process.env.WSHM_ROBUST_ROUNDS ?? 50);

/** The victims' shared words: 0 dirty, 1 repairs, 2 holds. */
function state(segment: Segment): Int32Array {
  return new Int32Array(segment.memory.buffer, segment.bytes("state", 16).byteOffset, 4);
}

interface Victim {
  child: Child;
  waiting: Promise<string>;
  held: Promise<string>;
}

function victim(rt: Runtime, name: string, lock: string, how: string): Victim {
  const child = startFixture(rt, "lock_victim", [name, lock, how], 120_000);
  const waiting = child.line(/^waiting/, 60_000);
  const held = child.line(/^held /, 60_000);
  // Victims that never get the lock are killed; their pending lines must not count as failures.
  waiting.catch(() => {});
  held.catch(() => {});
  return { child, waiting, held };
}

function summary(ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(0);
  return `median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms`;
}

/**
 * A chain of victims of all three runtimes (sync and async lockers): one
 * holds the lock with its state marked dirty, two wait for it; the holder is
 * killed, a waiter must take over with ownerDied and find the state dirty.
 */
async function killChain(lock: "mutex" | "write"): Promise<void> {
  const name = uniqueName(`robust-${lock}`);
  using segment = Segment.create(name, { size: 65536 });
  const cells = state(segment);
  if (lock === "mutex") segment.mutex("lock");
  else segment.rwlock("lock");
  const everyone: Victim[] = [];
  let spawned = 0;
  const next = () => {
    const v = victim(RUNTIMES[spawned % 3], name, lock, (spawned >> 1) % 2 === 0 ? "sync" : "async");
    spawned++;
    everyone.push(v);
    return v;
  };
  const takeovers: number[] = [];
  try {
    let holder = next();
    assert.match(await within(holder.held, 30_000, "the first holder"), /ownerDied=0/);
    let waiters = [next(), next()];
    for (let round = 0; round < ROUNDS; round++) {
      await within(waiters[0].waiting, 30_000, `a waiting victim in round ${round}`);
      assert.is(Atomics.load(cells, 2), round + 1, `round ${round}: nobody took the lock from a live holder`);
      const killedAt = performance.now();
      holder.child.kill("SIGKILL");
      const taker = await within(
        Promise.race(waiters.map((v) => v.held.then(() => v))),
        10_000,
        `round ${round}: a waiter taking over from the killed holder`,
      );
      takeovers.push(performance.now() - killedAt);
      assert.match(await taker.held, /ownerDied=1 dirty=1/, `round ${round}`);
      assert.is((await within(holder.child.done, 10_000, "the killed holder")).signal, "SIGKILL");
      waiters = waiters.filter((v) => v !== taker);
      holder = taker;
      if (round + waiters.length < ROUNDS) waiters.push(next());
    }
    for (const v of waiters) v.child.kill("SIGKILL");
    await within(Promise.all(waiters.map((v) => v.child.done)), 10_000, "the last waiters");
    holder.child.kill("SIGKILL");
    await within(holder.child.done, 10_000, "the last holder");
    assert.is(Atomics.load(cells, 1), ROUNDS, "every takeover repaired the state once");
    if (lock === "mutex") {
      const held = segment.mutex("lock").lock({ timeoutMs: 10_000 });
      assert.ok(held.ownerDied, "the last holder was killed too");
      held.consistent();
      held.unlock();
      segment.mutex("lock").lock({ timeoutMs: 1000 }).unlock();
    } else {
      const held = segment.rwlock("lock").write({ timeoutMs: 10_000 });
      assert.ok(held.ownerDied, "the last holder was killed too");
      held.consistent();
      held.unlock();
      segment.rwlock("lock").read({ timeoutMs: 1000 }).unlock();
    }
    console.log(`      ${lock}: ${ROUNDS} SIGKILLed holders, kill to takeover ${summary(takeovers)}`);
  } finally {
    for (const v of everyone) v.child.kill("SIGKILL");
  }
  segment.unlink();
}

test(`mutex: ${ROUNDS} holders of three runtimes killed with SIGKILL, each taken over with OwnerDied`, async () => {
  await killChain("mutex");
});

test(`rwlock: ${ROUNDS} write holders of three runtimes killed with SIGKILL, each taken over with OwnerDied`, async () => {
  await killChain("write");
});

/** Starts a victim of the other runtime that takes `lock`, waits until it holds it, kills it. */
async function killedHolder(name: string, lock: string): Promise<void> {
  const v = victim(other, name, lock, "sync");
  try {
    await within(v.held, 30_000, "the victim's hold");
  } finally {
    v.child.kill("SIGKILL");
  }
  await within(v.child.done, 10_000, "the killed victim");
}

test("mutex: unlocking after OwnerDied without consistent() makes it NotRecoverable for everybody", async () => {
  const name = uniqueName("robust-nr");
  using segment = Segment.create(name, { size: 65536 });
  const mutex = segment.mutex("lock");
  await killedHolder(name, "mutex");
  const held = mutex.lock({ timeoutMs: 10_000 });
  assert.ok(held.ownerDied);
  held.unlock();
  throwsCode(() => mutex.lock({ timeoutMs: 100 }), "NotRecoverable", "lock");
  throwsCode(() => mutex.tryLock(), "NotRecoverable", "tryLock");
  let code = "";
  await within(mutex.lockAsync({ timeoutMs: 100 }).catch((e) => (code = e.code)), 5000, "lockAsync");
  assert.is(code, "NotRecoverable", "lockAsync");
  throwsCode(() => mutex.holder, "NotRecoverable", "holder");
  segment.unlink();
});

test("mutex: consistent() after OwnerDied makes the next lock a normal one", async () => {
  const name = uniqueName("robust-consistent");
  using segment = Segment.create(name, { size: 65536 });
  const mutex = segment.mutex("lock");
  await killedHolder(name, "mutex");
  const held = await within(mutex.lockAsync({ timeoutMs: 10_000 }), 15_000, "lockAsync takeover");
  assert.ok(held.ownerDied, "lockAsync reports the dead owner too");
  held.consistent();
  held.unlock();
  const again = mutex.lock({ timeoutMs: 1000 });
  assert.not.ok(again.ownerDied);
  again.unlock();
  segment.unlink();
});

test("rwlock: a read() that finds the writer killed holds it exclusively with OwnerDied; no consistent() gives NotRecoverable", async () => {
  const name = uniqueName("robust-rw-nr");
  using segment = Segment.create(name, { size: 65536 });
  const rw = segment.rwlock("lock");
  await killedHolder(name, "write");
  const held = rw.read({ timeoutMs: 10_000 });
  assert.ok(held.ownerDied && held.exclusive, "the reader took the lock over exclusively");
  assert.is(rw.writer, process.pid);
  held.unlock();
  throwsCode(() => rw.read({ timeoutMs: 100 }), "NotRecoverable", "read");
  throwsCode(() => rw.tryWrite(), "NotRecoverable", "tryWrite");
  let code = "";
  await within(rw.writeAsync({ timeoutMs: 100 }).catch((e) => (code = e.code)), 5000, "writeAsync");
  assert.is(code, "NotRecoverable", "writeAsync");
  segment.unlink();
});

test("rwlock: writeAsync() takes over from a killed writer; after consistent() readers come back", async () => {
  const name = uniqueName("robust-rw-consistent");
  using segment = Segment.create(name, { size: 65536 });
  const rw = segment.rwlock("lock");
  await killedHolder(name, "write");
  const held = await within(rw.writeAsync({ timeoutMs: 10_000 }), 15_000, "writeAsync takeover");
  assert.ok(held.ownerDied);
  held.consistent();
  held.unlock();
  const reading = rw.read({ timeoutMs: 1000 });
  assert.not.ok(reading.ownerDied);
  reading.unlock();
  segment.unlink();
});

test("rwlock: a killed reader is forgotten; the next writer gets the lock without OwnerDied", async () => {
  const name = uniqueName("robust-rw-reader");
  using segment = Segment.create(name, { size: 65536 });
  const rw = segment.rwlock("lock");
  await killedHolder(name, "read");
  assert.is(rw.readers, 1, "the dead reader's hold is still counted");
  const started = performance.now();
  const held = rw.write({ timeoutMs: 10_000 });
  console.log(`      dead reader reaped after ${(performance.now() - started).toFixed(0)} ms`);
  assert.not.ok(held.ownerDied, "readers change nothing: no repair is needed");
  assert.is(rw.readers, 0);
  held.unlock();
  segment.unlink();
});

test("rwlock: a writer killed while waiting for readers never wrote: the lock stays consistent", async () => {
  const name = uniqueName("robust-rw-draining");
  using segment = Segment.create(name, { size: 65536 });
  const rw = segment.rwlock("lock");
  const reading = rw.read();
  const v = victim(other, name, "write", "sync");
  try {
    await within(v.waiting, 30_000, "the writer");
    const deadline = performance.now() + 10_000;
    while (rw.writer !== v.child.pid) {
      if (performance.now() > deadline) throw new Error("the writer never claimed the lock");
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } finally {
    v.child.kill("SIGKILL");
  }
  await within(v.child.done, 10_000, "the killed writer");
  reading.unlock();
  const again = rw.read({ timeoutMs: 10_000 });
  assert.not.ok(again.ownerDied, "no repair: the dead writer never held the lock");
  again.unlock();
  const writing = rw.write({ timeoutMs: 1000 });
  assert.not.ok(writing.ownerDied);
  writing.unlock();
  segment.unlink();
});

test.run();
