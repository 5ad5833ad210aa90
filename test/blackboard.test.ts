import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Segment } from "../ts/mod.ts";
import {
  cleanup,
  offsetOf,
  runtime,
  RUNTIMES,
  startFixture,
  throwsCode,
  uniqueName,
  within,
} from "./helpers.ts";
import { checkValue, KEYS, MAX_VALUE, valueOf } from "./fixtures/blackboard_common.ts";

const test = suite(`Blackboard (${runtime})`);
test.after.each(cleanup);
test.after(cleanup);

// Each parent runtime starts the writers in the next runtime, so the three runs cover every pair.
const writerRuntime = RUNTIMES[(RUNTIMES.indexOf(runtime) + 1) % RUNTIMES.length];

/** Seeded xorshift, so that a failure can be replayed. */
function random(seed: number): () => number {
  let x = seed | 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function expectRange(fn: () => unknown, code: string, what: string): void {
  try {
    fn();
  } catch (error) {
    const e = error as RangeError & { code?: string };
    assert.instance(e, RangeError, `${what}: a RangeError`);
    assert.is(e.code, code, `${what}: code ${code}`);
    return;
  }
  assert.unreachable(`${what}: did not throw`);
}

test("values round-trip byte-exact, every length from 0 to maxValueSize, with versions counting writes", () => {
  const name = uniqueName("bb-exact");
  using segment = Segment.create(name, { size: 1 << 20 });
  const board = segment.blackboard("b", { keys: ["x", "y"], maxValueSize: 1000 });
  assert.equal(board.keys, ["x", "y"]);
  assert.is(board.maxValueSize, 1000);
  const fresh = board.read("x");
  assert.is(fresh.version, 0, "a key never written has version 0");
  assert.is(fresh.bytes.length, 0, "and an empty value");
  const next = random(0x5eed);
  for (let i = 1; i <= 300; i++) {
    const length = i === 1 ? 0 : i === 2 ? 1000 : Math.floor(next() * 1001);
    const value = new Uint8Array(length);
    for (let j = 0; j < length; j++) value[j] = Math.floor(next() * 256);
    assert.is(board.write("x", value), i, `write ${i} returns version ${i}`);
    const back = board.read("x");
    assert.equal(back.bytes, value, `value ${i} (${length} bytes) reads back byte-exact`);
    assert.is(back.version, i);
    assert.is(board.version("x"), i);
  }
  assert.is(board.version("y"), 0, "writing x never touches y");
  board.write("y", "héllo");
  assert.is(board.read("y").text(), "héllo", "strings are stored as UTF-8");
  board.write("y", JSON.stringify({ n: 1 }));
  assert.equal(board.read("y").json(), { n: 1 });
  assert.is(board.generation, 302, "one generation per committed batch");
  segment.unlink();
});

test("another process (and runtime) opens the blackboard by name, reads its keys and values", async () => {
  const name = uniqueName("bb-open");
  using segment = Segment.create(name, { size: 1 << 20 });
  const board = segment.blackboard("board", { keys: KEYS, maxValueSize: MAX_VALUE });
  const child = startFixture(
    writerRuntime,
    "blackboard_writer",
    [name, "once", "0", "a", "from a child"],
    30_000,
  );
  const line = await child.line(/^wrote /, 20_000);
  assert.is(line, "wrote 1", `the ${writerRuntime} writer saw version 1`);
  assert.is((await child.done).code, 0);
  assert.is(board.read("a").text(), "from a child");
  using again = Segment.open(name);
  assert.equal(again.blackboard("board").keys, KEYS, "an opener reads the key names from the segment");
  segment.unlink();
});

test("a snapshot sees a batch whole: keys written together never differ", () => {
  const name = uniqueName("bb-batch");
  using segment = Segment.create(name, { size: 1 << 20 });
  const board = segment.blackboard("board", { keys: KEYS, maxValueSize: MAX_VALUE });
  for (let c = 0; c < 50; c++) {
    assert.equal(board.writeMany({ a: valueOf(c), b: valueOf(c) }), { a: c + 1, b: c + 1 });
    const { a, b } = board.snapshot(["a", "b"]);
    assert.is(a.version, b.version);
    assert.equal(a.bytes, valueOf(c));
    assert.equal(b.bytes, valueOf(c));
    assert.is(a.generation, c + 1);
  }
  assert.equal(Object.keys(board.snapshot()), KEYS, "snapshot() with no keys reads them all");
  segment.unlink();
});

test("readers in deno, node and bun never see a torn value or a split batch while writers are SIGKILLed mid-update", async () => {
  const name = uniqueName("bb-kill");
  using segment = Segment.create(name, { size: 1 << 20 });
  const board = segment.blackboard("board", { keys: KEYS, maxValueSize: MAX_VALUE });
  board.writeMany({ a: valueOf(0), b: valueOf(0) });
  const readers = RUNTIMES.map((rt) => startFixture(rt, "blackboard_reader", [name], 90_000));
  try {
    await within(Promise.all(readers.map((r) => r.line(/^reading/, 30_000))), 40_000, "readers starting");
    const next = random(0xb1ac);
    let counter = 1000;
    let killed = 0;
    for (let round = 0; round < 6; round++) {
      // Two writers at once (several writers are allowed; the claim serialises their batches).
      const writers = [0, 1].map((w) =>
        startFixture(RUNTIMES[(RUNTIMES.indexOf(writerRuntime) + round + w) % 3], "blackboard_writer", [
          name,
          "loop",
          String(counter + w * 100_000),
        ], 60_000)
      );
      counter += 1_000_000;
      await within(Promise.all(writers.map((w) => w.line(/^writing/, 30_000))), 40_000, "writers starting");
      const before = board.version("a");
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.floor(next() * 300)));
      for (const w of writers) w.kill("SIGKILL");
      for (const w of writers) {
        const run = await within(w.done, 20_000, "a killed writer");
        if (run.signal === "SIGKILL") killed++;
      }
      assert.ok(board.version("a") > before, `round ${round}: the writers made progress`);
      // A writer that died holding the claim is taken over (after a liveness slice) by the next.
      board.writeMany({ a: valueOf(round), b: valueOf(round) }, { timeoutMs: 5000 });
      assert.is(
        checkValue(board.read("a").bytes, board.version("a")),
        undefined,
        `round ${round}: a whole value`,
      );
    }
    assert.ok(killed >= 10, `the writers were SIGKILLed (${killed} of 12)`);
    board.write("stop", "1", { timeoutMs: 5000 });
    for (const [i, reader] of readers.entries()) {
      const run = await within(reader.done, 30_000, `reader ${RUNTIMES[i]}`);
      assert.is(run.code, 0, `reader ${RUNTIMES[i]} found nothing wrong:\n${run.stdout}\n${run.stderr}`);
      const [, reads, versions] = run.stdout.trim().split("\n").at(-1)!.split(" ");
      assert.ok(
        Number(reads) > 100 && Number(versions) > 10,
        `reader ${RUNTIMES[i]} read a moving board: ${run.stdout}`,
      );
    }
  } finally {
    for (const r of readers) r.kill("SIGKILL");
  }
  segment.unlink();
});

test("a writer killed after staging half a value leaves the last value readable, and the next writer takes over", async () => {
  const name = uniqueName("bb-torn");
  using segment = Segment.create(name, { size: 1 << 20 });
  const board = segment.blackboard("board", { keys: KEYS, maxValueSize: MAX_VALUE });
  const writer = startFixture(writerRuntime, "blackboard_writer", [name, "torn", "77"], 60_000);
  try {
    const line = await writer.line(/^staged /, 30_000);
    assert.is(line, "staged 2", "the writer staged version 2 over version 1");
    assert.is(board.writer, writer.pid, "it holds the write claim");
    const during = board.read("a");
    assert.is(during.version, 1, "the staged value is not visible");
    assert.equal(during.bytes, valueOf(77), "the committed value is whole");
    writer.kill("SIGKILL");
    assert.is((await within(writer.done, 20_000, "the torn writer")).signal, "SIGKILL");
    const after = board.read("a");
    assert.is(after.version, 1, "the dead writer's staged value never becomes visible");
    assert.equal(after.bytes, valueOf(77));
    // The claim is the dead writer's: write() takes it over after a liveness slice.
    assert.equal(board.writeMany({ b: valueOf(5) }, { timeoutMs: 5000 }), { b: 2 });
    assert.is(board.writer, 0, "the claim is free again");
    assert.is(
      board.version("a"),
      1,
      "the dead writer's half value of a was rolled back, not committed with b",
    );
    assert.equal(board.read("a").bytes, valueOf(77));
    assert.is(board.write("a", valueOf(78)), 2);
    assert.equal(board.read("a").bytes, valueOf(78));
  } finally {
    writer.kill("SIGKILL");
  }
  segment.unlink();
});

test("wait() and waitAsync() return when a key changes, time out with Timeout otherwise", async () => {
  const name = uniqueName("bb-wait");
  using segment = Segment.create(name, { size: 1 << 20 });
  const board = segment.blackboard("board", { keys: KEYS, maxValueSize: MAX_VALUE });
  const seen = board.version("a");
  throwsCode(() => board.wait("a", seen, { timeoutMs: 30 }), "Timeout", "wait with no write");
  let failure: unknown;
  await board.waitAsync("a", seen, { timeoutMs: 30 }).catch((e) => (failure = e));
  assert.is((failure as { code?: string })?.code, "Timeout", "waitAsync with no write times out");
  board.write("b", "x");
  throwsCode(
    () => board.wait("a", seen, { timeoutMs: 30 }),
    "Timeout",
    "a write of another key is no change of a",
  );

  // Sync: this thread blocks while another process writes.
  const child = startFixture(writerRuntime, "blackboard_writer", [name, "once", "200", "a", "one"], 30_000);
  board.wait("a", seen, { timeoutMs: 20_000 });
  assert.is(board.read("a").text(), "one", "woken by the other process's write");
  await within(child.done, 20_000, "the writer");

  // Async, park mode: the event loop keeps running meanwhile.
  const v1 = board.version("a");
  const child2 = startFixture(writerRuntime, "blackboard_writer", [name, "once", "200", "a", "two"], 30_000);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  await board.waitAsync("a", v1, { timeoutMs: 20_000, wait: "park" });
  clearInterval(timer);
  assert.is(board.read("a").text(), "two");
  assert.ok(ticks > 0, "the event loop ran while waiting");
  await within(child2.done, 20_000, "the writer");

  // Any key: wait(null, generation).
  const g = board.generation;
  const child3 = startFixture(
    writerRuntime,
    "blackboard_writer",
    [name, "once", "100", "b", "three"],
    30_000,
  );
  await board.waitAsync(null, g, { timeoutMs: 20_000 });
  assert.ok(board.generation > g);
  await within(child3.done, 20_000, "the writer");
  board.wait(null, g, { timeoutMs: 0 });
  throwsCode(
    () => board.wait(null, board.generation, { timeoutMs: 20 }),
    "Timeout",
    "no write after this generation",
  );
  segment.unlink();
});

test("the change word moves with every committed write of its key (the wait-set hook)", () => {
  const name = uniqueName("bb-word");
  using segment = Segment.create(name, { size: 1 << 20 });
  const board = segment.blackboard("board", { keys: KEYS, maxValueSize: 64 });
  const words = new Uint32Array(segment.memory.buffer);
  const a = board.changeWord("a") >>> 2;
  const any = board.changeWord(null) >>> 2;
  const [a0, any0] = [words[a], words[any]];
  board.write("a", "1");
  assert.is(words[a], a0 + 1, "a's word moved");
  assert.is(words[any], any0 + 1, "the any-key word moved");
  board.write("b", "1");
  assert.is(words[a], a0 + 1, "a write of b leaves a's word");
  assert.is(words[any], any0 + 2);
  const k = segment.constants;
  assert.is(segment.core.blackboardChangeWord(board.handle, 3), -k.INVALID_ARGUMENT, "no key 3");
  assert.is(segment.core.blackboardChangeWord(99, 0), -k.INVALID_ARGUMENT, "not a blackboard handle");
  segment.unlink();
});

test("bad input: unknown keys, values over maxValueSize, bad keys at creation, a missing board", () => {
  const name = uniqueName("bb-bad");
  using segment = Segment.create(name, { size: 1 << 20 });
  const board = segment.blackboard("board", { keys: ["k"], maxValueSize: 8 });
  expectRange(() => board.read("nope"), "NotFound", "read of an unknown key");
  expectRange(() => board.write("nope", "x"), "NotFound", "write of an unknown key");
  expectRange(() => board.writeMany({ k: "1", nope: "2" }), "NotFound", "a batch with an unknown key");
  expectRange(() => board.snapshot(["k", "nope"]), "NotFound", "snapshot with an unknown key");
  expectRange(() => board.version("nope"), "NotFound", "version of an unknown key");
  expectRange(() => board.wait("nope", 0, { timeoutMs: 1 }), "NotFound", "wait on an unknown key");
  throwsCode(() => board.write("k", "123456789"), "TooLarge", "a value over maxValueSize");
  assert.is(board.version("k"), 0, "a rejected batch writes nothing");
  assert.is(board.writer, 0, "and holds no claim");
  expectRange(() => board.wait("k", -1), "InvalidArgument", "a negative version");
  assert.throws(() => board.write("k", 5 as never), TypeError, "a value that is neither bytes nor a string");
  expectRange(() => segment.blackboard("b2", { keys: [] }), "InvalidArgument", "no keys");
  expectRange(() => segment.blackboard("b2", { keys: ["x", "x"] }), "InvalidArgument", "a key given twice");
  expectRange(() => segment.blackboard("b2", { keys: ["x".repeat(49)] }), "InvalidArgument", "a 49-byte key");
  expectRange(
    () => segment.blackboard("b2", { keys: Array.from({ length: 257 }, (_, i) => `k${i}`) }),
    "InvalidArgument",
    "257 keys",
  );
  expectRange(
    () => segment.blackboard("b2", { keys: ["x"], maxValueSize: 0 }),
    "InvalidArgument",
    "maxValueSize 0",
  );
  expectRange(
    () => segment.blackboard("b2", { keys: ["x"], maxValueSize: 2 ** 24 + 1 }),
    "InvalidArgument",
    "2^24 + 1",
  );
  assert.throws(
    () => segment.blackboard("b2", { keys: "x" as never }),
    TypeError,
    "keys that are not an array",
  );
  throwsCode(() => segment.blackboard("b2"), "NotFound", "a missing board opened without keys");
  throwsCode(() => segment.blackboard("b2", { keys: ["x"], create: false }), "NotFound", "create: false");
  assert.ok(
    segment.blackboard("b3", { keys: ["x".repeat(48)], maxValueSize: 2 ** 16 }),
    "the largest key fits",
  );
  segment.unlink();
});

test("a corrupt geometry or value header in the segment gives Corrupt, never an access outside the object", () => {
  const name = uniqueName("bb-corrupt");
  using segment = Segment.create(name, { size: 1 << 20 });
  const board = segment.blackboard("board", { keys: ["k", "j"], maxValueSize: 64 });
  board.write("k", "fine");
  const view = segment.view();
  const at = offsetOf(segment, "board");
  const keyStride = view.getUint32(at + 8, true);
  const bufferStride = view.getUint32(at + 12, true);
  const k = segment.constants;

  // A key count past the object's extent.
  view.setUint32(at, 100_000, true);
  throwsCode(() => board.read("k"), "Corrupt", "read with an impossible key count");
  throwsCode(
    () => board.write("k", "x", { timeoutMs: 100 }),
    "Corrupt",
    "write with an impossible key count",
  );
  throwsCode(() => board.wait("k", 0, { timeoutMs: 10 }), "Corrupt", "wait with an impossible key count");
  throwsCode(() => Segment.open(name), "Corrupt", "opening the segment checks the blackboard");
  view.setUint32(at, 2, true);
  // A stride that does not follow from maxValueSize.
  view.setUint32(at + 8, keyStride + 64, true);
  throwsCode(() => board.read("k"), "Corrupt", "read with a wrong key stride");
  assert.is(segment.core.blackboardChangeWord(board.handle, 0), -k.CORRUPT, "no change word either");
  view.setUint32(at + 8, keyStride, true);
  assert.is(board.read("k").text(), "fine", "repaired, it reads again");

  // A committed length over maxValueSize (key k's current buffer is buffer 1 after one write).
  const key0 = at + k.BLACKBOARD_KEYS_START;
  const buffer1 = key0 + 64 + bufferStride;
  view.setUint32(buffer1 + 12, 65, true);
  throwsCode(() => board.read("k"), "Corrupt", "a committed length over maxValueSize");
  view.setUint32(buffer1 + 12, 4, true);
  // No committed buffer at all: both stamps past the generation.
  view.setBigUint64(key0 + 64, 2n ** 64n - 1n, true);
  view.setBigUint64(buffer1, 2n ** 64n - 1n, true);
  throwsCode(() => board.read("k", { timeoutMs: 5000 }), "Corrupt", "a key with no committed buffer");
  throwsCode(() => board.version("k"), "Corrupt", "version of that key");
  throwsCode(() => board.write("k", "x", { timeoutMs: 100 }), "Corrupt", "write of that key");
  assert.is(board.writer, 0, "the failed write gave the claim back");
  assert.is(board.read("j").version, 0, "the other key is unharmed");
  // A generation beyond 2^53 (no real count is).
  view.setBigUint64(at + 128, 2n ** 60n, true);
  throwsCode(() => board.read("j"), "Corrupt", "an impossible generation");
  segment.unlink();
});

test.run();
