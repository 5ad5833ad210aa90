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

test.run();
