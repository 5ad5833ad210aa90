import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Segment } from "../ts/mod.ts";
import { cleanup, runtime, throwsCode, uniqueName } from "./helpers.ts";
import { mkdirSync, rmdirSync, truncateSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

const test = suite(`bad input (${runtime})`);
test.after.each(cleanup);

const BAD_NAMES: Array<[unknown, string]> = [
  ["", "empty"],
  ["jobs", "no leading slash"],
  ["/", "nothing after the slash"],
  ["/a/b", "a second slash"],
  ["/a\0b", "a NUL"],
  ["/" + "x".repeat(256), "longer than 255 bytes"],
  ["/" + "é".repeat(128), "longer than 255 bytes of UTF-8"],
  ["/..", "dot-dot"],
  [42, "not a string"],
];

for (const [name, why] of BAD_NAMES) {
  test(`a segment name that is ${why} gives InvalidName on create, open and unlink`, () => {
    throwsCode(() => Segment.create(name as string, { size: 65536 }), "InvalidName", "create");
    throwsCode(() => Segment.open(name as string), "InvalidName", "open");
    throwsCode(() => Segment.unlink(name as string), "InvalidName", "unlink");
  });
}

const BAD_SIZES: Array<[unknown, string]> = [
  [0, "zero"],
  [-65536, "negative"],
  [65536.5, "fractional"],
  [2 ** 30 + 1, "over the 1 GiB limit"],
  [Number.NaN, "NaN"],
  [Infinity, "infinite"],
  ["65536", "a string"],
];

for (const [size, why] of BAD_SIZES) {
  test(`a size that is ${why} gives InvalidSize and leaves no file`, () => {
    const name = uniqueName("size");
    throwsCode(() => Segment.create(name, { size: size as number }), "InvalidSize");
    throwsCode(() => Segment.open(name), "NotFound", "nothing was created");
  });
}

test("opening a missing segment gives NotFound with a readable message", () => {
  const name = uniqueName("missing");
  try {
    Segment.open(name);
    assert.unreachable("open should fail");
  } catch (error) {
    // deno-lint-ignore no-explicit-any
    const e = error as any;
    assert.is(e.code, "NotFound");
    assert.is(e.errno, 2);
    assert.is(e.message, `Cannot open segment "${name}": it does not exist`);
  }
  throwsCode(() => Segment.unlink(name), "NotFound", "unlink of a missing segment");
});

test("creating an existing segment gives Exists and leaves the original intact", () => {
  const name = uniqueName("exists");
  using first = Segment.create(name, { size: 65536 });
  first.bytes("keep", 8)[0] = 42;
  throwsCode(() => Segment.create(name, { size: 65536 }), "Exists");
  using again = Segment.open(name);
  assert.is(again.bytes("keep", 8)[0], 42);
  first.unlink();
});

test("a /dev/shm file of random bytes gives BadMagic", () => {
  const name = uniqueName("random");
  const bytes = new Uint8Array(100_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (Math.random() * 256) | 0;
  bytes[0] = 0x55; // a zero magic would read as "still initialising"
  writeFileSync(`/dev/shm${name}`, bytes);
  throwsCode(() => Segment.open(name), "BadMagic");
  writeFileSync(`/dev/shm${name}`, bytes.subarray(0, 10));
  throwsCode(() => Segment.open(name), "BadMagic", "a 10-byte file");
});

test("a FIFO or a directory in /dev/shm gives BadMagic, without blocking", () => {
  const fifo = uniqueName("fifo");
  execFileSync("mkfifo", [`/dev/shm${fifo}`]);
  throwsCode(() => Segment.open(fifo), "BadMagic", "a FIFO");
  const directory = uniqueName("dir");
  mkdirSync(`/dev/shm${directory}`);
  try {
    throwsCode(() => Segment.open(directory), "BadMagic", "a directory");
  } finally {
    rmdirSync(`/dev/shm${directory}`);
  }
});

test("a zero-filled or empty file (a creator that never finished) gives Timeout, bounded", () => {
  const name = uniqueName("zeros");
  writeFileSync(`/dev/shm${name}`, new Uint8Array(65536));
  const started = performance.now();
  throwsCode(() => Segment.open(name, { timeoutMs: 50 }), "Timeout");
  assert.ok(performance.now() - started < 10_000, "the wait was bounded");
  writeFileSync(`/dev/shm${name}`, new Uint8Array(0));
  throwsCode(() => Segment.open(name, { timeoutMs: 50 }), "Timeout", "an empty file");
});

test("a segment truncated below the size its header states gives Corrupt, not SIGBUS", () => {
  const name = uniqueName("trunc");
  const segment = Segment.create(name, { size: 4 * 65536 });
  segment.close();
  truncateSync(`/dev/shm${name}`, 65536);
  throwsCode(() => Segment.open(name), "Corrupt", "truncated to one page");
  truncateSync(`/dev/shm${name}`, 100);
  throwsCode(() => Segment.open(name), "Corrupt", "truncated to 100 bytes");
});

test("a header of another layout version gives VersionMismatch", () => {
  const name = uniqueName("version");
  using segment = Segment.create(name, { size: 65536 });
  segment.view().setUint32(segment.constants.HEADER_VERSION, 99, true);
  throwsCode(() => Segment.open(name), "VersionMismatch");
});

test("a directory entry pointing outside the segment gives Corrupt", () => {
  const name = uniqueName("entry");
  using segment = Segment.create(name, { size: 65536 });
  segment.bytes("victim", 64);
  const k = segment.constants;
  const view = segment.view();
  const entry = k.HEADER_DIRECTORY; // the first entry is "victim"
  view.setUint32(entry + k.ENTRY_OFFSET, 65536 - 64, true);
  view.setUint32(entry + k.ENTRY_SIZE, 128, true);
  throwsCode(() => Segment.open(name), "Corrupt", "an entry past the end");
  view.setUint32(entry + k.ENTRY_OFFSET, 0xFFFFFFC0, true);
  throwsCode(() => Segment.open(name), "Corrupt", "an entry whose end overflows 32 bits");
  view.setUint32(entry + k.ENTRY_OFFSET, 64, true);
  view.setUint32(entry + k.ENTRY_SIZE, 64, true);
  throwsCode(() => Segment.open(name), "Corrupt", "an entry inside the header");
  view.setUint32(entry + k.ENTRY_OFFSET, k.HEADER_SIZE, true);
  view.setUint32(entry + k.ENTRY_KIND, 77, true);
  throwsCode(() => Segment.open(name), "Corrupt", "an unknown kind");
});

test("a header stating a different size than the file gives Corrupt", () => {
  const name = uniqueName("stated");
  using segment = Segment.create(name, { size: 65536 });
  segment.view().setBigUint64(segment.constants.HEADER_SEGMENT_SIZE, 1n << 40n, true);
  throwsCode(() => Segment.open(name), "Corrupt");
});

test("bad object names and sizes are refused with a code or a RangeError", () => {
  const name = uniqueName("objname");
  using segment = Segment.create(name, { size: 65536 });
  throwsCode(() => segment.mutex(""), "InvalidName", "empty object name");
  throwsCode(() => segment.mutex("x".repeat(41)), "InvalidName", "object name over 40 bytes");
  throwsCode(() => segment.mutex("a\0b"), "InvalidName", "object name with NUL");
  assert.throws(() => segment.bytes("b", 0), RangeError);
  assert.throws(() => segment.bytes("b", 1.5), RangeError);
  throwsCode(() => segment.mutex("absent", { create: false }), "NotFound", "create: false");
  assert.throws(() => Segment.create(uniqueName("m"), { size: 65536, mode: 0o1000 }), RangeError);
  assert.throws(() => segment.mutex("t").lock({ timeoutMs: -1 }), RangeError);
  segment.unlink();
});

test("a corrupt name length gives Corrupt from objects(), never a RangeError or a name read from neighbours", () => {
  const name = uniqueName("namelen");
  using segment = Segment.create(name, { size: 65536 });
  segment.bytes("victim", 64);
  segment.mutex("neighbour");
  const k = segment.constants;
  const view = segment.view();
  const at = k.HEADER_DIRECTORY + k.ENTRY_NAME_LENGTH; // the first entry is "victim"
  for (const length of [1000, k.NAME_MAX + 1, 0xFFFFFFFF, 0]) {
    view.setUint32(at, length, true);
    throwsCode(() => segment.objects(), "Corrupt", `name length ${length}`);
  }
  view.setUint32(at, 6, true);
  assert.equal(segment.objects().map((o) => o.name), ["victim", "neighbour"], "repaired, it lists again");
});

test("an entry's offset or size corrupted after open gives Corrupt from bytes() and objects()", () => {
  const name = uniqueName("extent");
  using segment = Segment.create(name, { size: 65536 });
  segment.bytes("victim", 64);
  const k = segment.constants;
  const view = segment.view();
  const entry = k.HEADER_DIRECTORY;
  const cases: Array<[number, number, string]> = [
    [0xFFFFFF00, 64, "an offset near 2^32"],
    [65536 - 64, 128, "an end past the segment"],
    [64, 64, "an offset inside the header"],
    [k.HEADER_SIZE, 0x7FFFFFFF, "a size of 2^31 - 1"],
  ];
  for (const [offset, size, why] of cases) {
    view.setUint32(entry + k.ENTRY_OFFSET, offset, true);
    view.setUint32(entry + k.ENTRY_SIZE, size, true);
    throwsCode(() => segment.bytes("victim", 64), "Corrupt", `bytes(), ${why}`);
    throwsCode(() => segment.objects(), "Corrupt", `objects(), ${why}`);
  }
});

/** Asserts that `fn` throws a TypeError or RangeError (`type`) whose code is InvalidArgument. */
function throwsArgument(fn: () => unknown, type: typeof TypeError | typeof RangeError, what: string): void {
  try {
    fn();
  } catch (error) {
    // deno-lint-ignore no-explicit-any
    const e = error as any;
    assert.ok(e instanceof type, `${what}: expected a ${type.name}, got ${e?.name}: ${e?.message}`);
    assert.is((error as { code?: string }).code, "InvalidArgument", `${what}: the code of ${e?.message}`);
    return;
  }
  assert.unreachable(`${what}: did not throw`);
}

test("queue.send() and trySend() refuse a type the core would coerce, and claim nothing", () => {
  const name = uniqueName("qtype");
  using segment = Segment.create(name, { size: 1 << 20 });
  const queue = segment.queue("q", { slots: 2 });
  const bad: Array<[unknown, typeof TypeError | typeof RangeError]> = [
    [NaN, RangeError],
    [1.5, RangeError],
    [2 ** 32 + 5, RangeError],
    [2 ** 31, RangeError],
    [-1, RangeError],
    ["7", TypeError],
  ];
  for (const [type, error] of bad) {
    throwsArgument(
      () => queue.send("x", { type: type as number, timeoutMs: 0 }),
      error,
      `send type ${String(type)}`,
    );
    throwsArgument(() => queue.trySend("x", type as number), error, `trySend type ${String(type)}`);
  }
  assert.is(queue.stats().enqueued, 0, "no slot was claimed by a refused send");
  queue.send("ok", { type: 7, timeoutMs: 0 });
  assert.is(queue.read({ timeoutMs: 0 }).type, 7);
});

test("ring.readMany() takes an integer >= 1 only", () => {
  const name = uniqueName("readmany");
  using segment = Segment.create(name, { size: 1 << 20 });
  const ring = segment.ring("r");
  for (const max of [-1, NaN, 2 ** 32 + 1, 0, 1.5, Infinity]) {
    throwsArgument(() => ring.readMany(max), RangeError, `readMany(${max})`);
    throwsArgument(() => ring.readMany(max, { timeoutMs: 0 }), RangeError, `readMany(${max}, timed)`);
  }
  throwsArgument(() => ring.readMany("2" as unknown as number), TypeError, 'readMany("2")');
  ring.send("a");
  assert.is(ring.readMany(1000), 1, "a max above RING_BATCH_MAX is fine: at most 512 come at once");
});

test("a bad object name of any type is InvalidName, a Symbol included", () => {
  const name = uniqueName("symbol");
  using segment = Segment.create(name, { size: 1 << 20 });
  for (const bad of [Symbol("x"), 42, null, undefined, {}]) {
    const n = bad as unknown as string;
    throwsCode(() => segment.mutex(n), "InvalidName", `mutex(${String(bad)})`);
    throwsCode(() => segment.ring(n), "InvalidName", `ring(${String(bad)})`);
    throwsCode(() => segment.bytes(n, 8), "InvalidName", `bytes(${String(bad)})`);
  }
});

test("every misuse throws a TypeError or RangeError with a code", () => {
  const name = uniqueName("misuse");
  using segment = Segment.create(name, { size: 1 << 20 });
  const ring = segment.ring("r");
  const queue = segment.queue("q");
  const sem = segment.semaphore("s");
  const event = segment.event("e");
  const channel = segment.channel("c");
  const n = (v: unknown) => v as number;
  const cases: Array<[() => unknown, typeof TypeError | typeof RangeError, string]> = [
    [
      () => Segment.create(uniqueName("nosize") as string, undefined as never),
      TypeError,
      "create without options",
    ],
    [() => Segment.create(uniqueName("mode"), { size: 65536, mode: n("600") }), TypeError, "a string mode"],
    [
      () => Segment.create(uniqueName("excl"), { size: 65536, exclusive: n("no") as never }),
      TypeError,
      "exclusive",
    ],
    [() => Segment.open(name, null as never), TypeError, "open options null"],
    [() => Segment.open(name, { timeoutMs: n("5") }), TypeError, "open timeoutMs string"],
    [() => Segment.open(name, { timeoutMs: -1 }), RangeError, "open timeoutMs -1"],
    [() => segment.semaphore("bad", { initial: 5, maximum: 4 }), RangeError, "initial above maximum"],
    [() => segment.semaphore("bad2", { maximum: 0 }), RangeError, "maximum 0"],
    [() => segment.rwlock("bad", { readers: 1.5 }), RangeError, "readers 1.5"],
    [() => segment.ring("bad", { capacity: 100 }), RangeError, "capacity not a power of two"],
    [() => segment.ring("bad", { wait: "sometimes" as never }), RangeError, "a bad wait mode"],
    [() => segment.queue("bad", { slots: 3 }), RangeError, "slots not a power of two"],
    [() => segment.queue("bad", { slotSize: n("64") }), TypeError, "slotSize string"],
    [() => segment.channel("bad", { clients: -1 }), RangeError, "clients -1"],
    [() => segment.channel("bad", { capacity: NaN }), RangeError, "capacity NaN"],
    [() => segment.mutex("m", null as never), TypeError, "options null"],
    [() => segment.mutex("m2", { timeoutMs: n("1") } as never), TypeError, "a create timeoutMs string"],
    [() => segment.event("e2", { timeoutMs: -1 } as never), RangeError, "a create timeoutMs of -1"],
    [() => segment.mutex("m", { create: n("yes") as never }), TypeError, "create 'yes'"],
    [() => segment.bytes("b", n("8")), TypeError, "bytes size string"],
    [() => segment.bytes("b", 0), RangeError, "bytes size 0"],
    [() => segment.mutex("t").lock({ timeoutMs: NaN }), RangeError, "lock timeoutMs NaN"],
    [() => segment.mutex("t").lock(1000 as never), TypeError, "lock(1000): options that are a number"],
    [() => sem.wait("100" as never), TypeError, "semaphore wait('100')"],
    [() => ring.read(5 as never), TypeError, "ring read(5)"],
    [() => queue.read(true as never), TypeError, "queue read(true)"],
    [() => channel.request("x", 100 as never), TypeError, "request('x', 100)"],
    [() => segment.mutex("t").lock({ timeoutMs: n("1") }), TypeError, "lock timeoutMs string"],
    [() => sem.post(0), RangeError, "post(0)"],
    [() => sem.post(2 ** 32 + 1), RangeError, "post(2^32 + 1)"],
    [() => sem.wait({ timeoutMs: -5 }), RangeError, "semaphore wait timeoutMs -5"],
    [() => event.wait(-1), RangeError, "event wait(-1)"],
    [() => event.wait(n("3")), TypeError, "event wait('3')"],
    [() => event.waitUntil(n(true) as never, { timeoutMs: 0 }), TypeError, "waitUntil(true)"],
    [() => ring.tryClaimAt(2 ** 32 + 4), RangeError, "tryClaimAt(2^32 + 4)"],
    [() => ring.tryClaimMany(NaN, 8), RangeError, "tryClaimMany(NaN)"],
    [() => ring.trySend(n({}) as never), TypeError, "a message that is an object"],
    [() => ring.send("x", { type: 1.5 }), RangeError, "ring type 1.5"],
    [() => queue.commit(n("0"), 1), TypeError, "commit at '0'"],
    [() => queue.release(NaN), RangeError, "release(NaN)"],
    [() => queue.abort(-1), RangeError, "abort(-1)"],
    [() => channel.request("x", { timeoutMs: n("1") }), TypeError, "request timeoutMs string"],
  ];
  for (const [fn, type, what] of cases) {
    throwsArgument(fn, type, what);
  }
});

test("async calls given a bad handler, signal or options reject with a coded TypeError", async () => {
  const name = uniqueName("serve");
  using segment = Segment.create(name, { size: 1 << 20 });
  const channel = segment.channel("c");
  const calls: Array<[() => Promise<unknown>, string]> = [
    [() => channel.serve("nope" as never), "serve('nope')"],
    [() => channel.serve(() => "", { signal: "stop" as never }), "serve with a string signal"],
    [() => channel.receiveAsync({ signal: {} as never, timeoutMs: 0 }), "receiveAsync with an object signal"],
    [() => segment.ring("r2").receiveAsync(7 as never), "ring receiveAsync(7)"],
    [() => segment.queue("q2").receiveAsync(7 as never), "queue receiveAsync(7)"],
    [() => segment.mutex("l2").lockAsync(7 as never), "lockAsync(7)"],
  ];
  for (const [call, what] of calls) {
    try {
      await call();
      assert.unreachable(`${what} should reject`);
    } catch (error) {
      assert.ok(error instanceof TypeError, `${what}: ${error}`);
      assert.is((error as { code?: string }).code, "InvalidArgument", what);
    }
  }
  channel.detach();
});

test.run();
