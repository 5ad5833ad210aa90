import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Segment, WshmError } from "../ts/mod.ts";
import { cleanup, runtime, throwsCode, uniqueName } from "./helpers.ts";
import { existsSync, statSync } from "node:fs";

const test = suite(`Segment (${runtime})`);
test.after.each(cleanup);

test("Segment.create() makes a /dev/shm file of the rounded-up size with mode 0600", () => {
  const name = uniqueName("create");
  using segment = Segment.create(name, { size: 100_000 });
  assert.is(segment.size, 131072);
  assert.ok(segment.created);
  const stat = statSync(`/dev/shm${name}`);
  assert.is(stat.size, 131072);
  assert.is(stat.mode & 0o777, 0o600);
  assert.is(segment.creatorPid, process.pid);
  assert.ok(Math.abs(segment.createdAt.getTime() - Date.now()) < 60_000, "creation time is now");
  segment.unlink();
  assert.not.ok(existsSync(`/dev/shm${name}`), "unlink removes the file");
});

test("Segment.create() honours mode exactly, regardless of the umask", () => {
  const name = uniqueName("mode");
  using segment = Segment.create(name, { size: 65536, mode: 0o640 });
  assert.is(statSync(`/dev/shm${name}`).mode & 0o777, 0o640);
  segment.unlink();
});

test("Segment.open() sees what the creator wrote, and objects by name", () => {
  const name = uniqueName("open");
  using creator = Segment.create(name, { size: 65536 });
  creator.bytes("data", 16).set([1, 2, 3]);
  creator.mutex("lock");
  using opener = Segment.open(name);
  assert.not.ok(opener.created);
  assert.is(opener.size, 65536);
  assert.equal([...opener.bytes("data", 16).subarray(0, 3)], [1, 2, 3]);
  assert.equal(
    opener.objects().map((o) => [o.name, o.kind]),
    [["data", "bytes"], ["lock", "mutex"]],
  );
  opener.bytes("data", 16)[3] = 9;
  assert.is(creator.bytes("data", 16)[3], 9, "writes travel both ways");
  creator.unlink();
});

test("create with exclusive: false opens an existing segment", () => {
  const name = uniqueName("nonexcl");
  using first = Segment.create(name, { size: 65536 });
  using second = Segment.create(name, { size: 1 << 20, exclusive: false });
  assert.not.ok(second.created);
  assert.is(second.size, 65536, "the existing size wins");
  first.unlink();
});

test("objects are cache-line aligned and never overlap", () => {
  const name = uniqueName("align");
  using segment = Segment.create(name, { size: 65536 });
  segment.bytes("a", 1);
  segment.mutex("m");
  segment.bytes("b", 100);
  const objects = segment.objects();
  for (const o of objects) assert.is(o.offset % 64, 0, `${o.name} aligned`);
  for (let i = 1; i < objects.length; i++) {
    assert.ok(objects[i].offset >= objects[i - 1].offset + objects[i - 1].size, "no overlap");
  }
  segment.unlink();
});

test("a name taken by another kind gives KindMismatch", () => {
  const name = uniqueName("kind");
  using segment = Segment.create(name, { size: 65536 });
  segment.bytes("x", 8);
  throwsCode(() => segment.mutex("x"), "KindMismatch");
  segment.unlink();
});

test("the directory reports DirectoryFull when entries or space run out", () => {
  const name = uniqueName("full");
  using segment = Segment.create(name, { size: 65536 });
  throwsCode(() => segment.bytes("huge", 65536 - 4096 + 64), "TooLarge", "an object that could never fit");
  segment.bytes("most", 65536 - 4096 - 1024);
  throwsCode(() => segment.bytes("more", 2048), "DirectoryFull", "an object larger than the space left");
  segment.unlink();
});

test("the directory holds DIR_CAPACITY objects, then reports DirectoryFull", () => {
  const name = uniqueName("entries");
  using segment = Segment.create(name, { size: 65536 });
  let created = 0;
  try {
    for (; created < 100; created++) segment.mutex(`m${created}`);
  } catch (error) {
    assert.instance(error, WshmError);
    assert.is((error as WshmError).code, "DirectoryFull");
  }
  assert.is(created, segment.constants.DIR_CAPACITY, "every directory entry was usable");
  segment.unlink();
});

test("close() detaches: writes through the old memory no longer reach the segment", () => {
  const name = uniqueName("detach");
  using writer = Segment.create(name, { size: 65536 });
  using reader = Segment.open(name);
  const stale = writer.bytes("data", 8);
  stale[0] = 1;
  assert.is(reader.bytes("data", 8)[0], 1);
  writer.close();
  stale[0] = 2;
  assert.is(reader.bytes("data", 8)[0], 1, "the detached write stayed private");
  throwsCode(() => writer.bytes("data", 8), "Closed");
  writer.close();
  reader.unlink();
});

test("the mutex excludes: tryLock fails while held, succeeds after unlock", () => {
  const name = uniqueName("mutex");
  using segment = Segment.create(name, { size: 65536 });
  const mutex = segment.mutex("m");
  const held = mutex.lock();
  assert.is(mutex.holder, process.pid);
  assert.is(mutex.tryLock(), null, "tryLock while held");
  throwsCode(() => mutex.lock({ timeoutMs: 20 }), "Timeout", "timed lock while held");
  held.unlock();
  assert.is(mutex.holder, 0);
  const again = mutex.tryLock();
  assert.ok(again);
  again!.unlock();
  throwsCode(() => mutex.unlock(), "NotOwner", "unlock when free");
  segment.unlink();
});

test.run();
