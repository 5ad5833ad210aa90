import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Segment, WaitSet } from "../ts/mod.ts";
import { setWaitSetSliceMs } from "../ts/wait_set.ts";
import { cleanup, runtime, RUNTIMES, startFixture, throwsCode, uniqueName, within } from "./helpers.ts";

const test = suite(`WaitSet (${runtime})`);
test.after.each(cleanup);
test.after(cleanup);

function objects(segment: Segment) {
  const topic = segment.topic("t", { maxMessage: 64 });
  return {
    blackboard: segment.blackboard("bb", { keys: ["a", "b"], maxValueSize: 64 }),
    ring: segment.ring("r"),
    queue: segment.queue("q"),
    event: segment.event("e"),
    topic,
    subscriber: topic.subscribe(),
  };
}

test("reports whichever member is ready, takes nothing, and times out with a code", () => {
  const name = uniqueName("ws-basic");
  using segment = Segment.create(name, { size: 1 << 20 });
  const o = objects(segment);
  const set = new WaitSet().add(o.ring).add(o.queue).add(o.event).add(o.subscriber);
  assert.is(set.tryWait(), null, "nothing is ready");
  throwsCode(() => set.wait({ timeoutMs: 30, wait: "park" }), "Timeout", "an idle set times out");
  o.queue.send("q");
  assert.is(set.wait({ timeoutMs: 100 }), o.queue);
  assert.is(set.wait({ timeoutMs: 100 }), o.queue, "waiting takes nothing: still ready");
  assert.is(o.queue.tryReceive()?.length, 1);
  o.event.notifyAll();
  assert.is(set.wait({ timeoutMs: 100 }), o.event);
  assert.is(set.tryWait(), null, "an event is ready once per notification");
  o.ring.send("r");
  assert.is(set.wait({ timeoutMs: 100 }), o.ring);
  o.ring.receive({ timeoutMs: 100 });
  o.topic.publish("t");
  assert.is(set.wait({ timeoutMs: 100 }), o.subscriber);
  o.subscriber.receive({ timeoutMs: 100 });
  assert.is(set.tryWait(), null);
  // Two ready members: both are reported in turn, so one busy member cannot hide another.
  o.queue.send("a");
  o.ring.send("b");
  const first = set.wait({ timeoutMs: 100 });
  const second = set.wait({ timeoutMs: 100 });
  assert.ok(new Set([first, second]).size === 2, "both ready members were reported");
  assert.ok(set.remove(o.ring) && !set.remove(o.ring));
  assert.equal(set.sources.length, 3);
  segment.unlink();
});

test("bad input: an empty set, a foreign member, options", () => {
  const name = uniqueName("ws-bad");
  using segment = Segment.create(name, { size: 1 << 20 });
  assert.throws(() => new WaitSet().wait({ timeoutMs: 1 }), RangeError, "an empty set");
  assert.throws(() => new WaitSet().add({} as never), TypeError, "not a wshm object");
  const set = new WaitSet().add(segment.event("e"));
  assert.throws(() => set.wait({ timeoutMs: -1 }), RangeError);
  assert.throws(() => set.wait({ wait: "nap" as "park" }), RangeError);
  segment.unlink();
});

test("members in two segments; a closed segment is reported as Closed", () => {
  const a = uniqueName("ws-a"), b = uniqueName("ws-b");
  const sa = Segment.create(a, { size: 1 << 20 });
  const sb = Segment.create(b, { size: 1 << 20 });
  const qa = sa.queue("q"), eb = sb.event("e");
  const set = new WaitSet().add(qa).add(eb);
  eb.notifyAll();
  assert.is(set.wait({ timeoutMs: 100, wait: "park" }), eb);
  sa.unlink();
  sa.close();
  throwsCode(() => set.wait({ timeoutMs: 10 }), "Closed", "a member's segment was closed");
  sb.unlink();
  sb.close();
});

test("a blackboard key: ready when that key changes, not another; any key with key null", () => {
  const name = uniqueName("ws-bb");
  using segment = Segment.create(name, { size: 1 << 20 });
  const board = segment.blackboard("bb", { keys: ["a", "b"], maxValueSize: 64 });
  const onB = new WaitSet().add(board, { key: "b" });
  const onAny = new WaitSet().add(board);
  board.write("a", "1");
  assert.is(onB.tryWait(), null, "key a changed, not b");
  assert.is(onAny.wait({ timeoutMs: 100 }), board, "any key");
  board.write("b", "2");
  assert.is(onB.wait({ timeoutMs: 100, wait: "park" }), board);
  assert.is(onB.tryWait(), null, "reported once per change");
  assert.throws(() => new WaitSet().add(board, { key: "c" }), RangeError);
  segment.unlink();
});

for (const kind of ["ring", "queue", "topic", "event", "blackboard"] as const) {
  test(`a ${kind} made ready by another process wakes a parked set (sync and async)`, async () => {
    const name = uniqueName(`ws-${kind}`);
    using segment = Segment.create(name, { size: 1 << 20 });
    const o = objects(segment);
    const set = new WaitSet().add(o.ring).add(o.queue).add(o.event).add(o.subscriber).add(o.blackboard, {
      key: "b",
    });
    const expected = kind === "topic" ? o.subscriber : o[kind];
    const other = RUNTIMES[(RUNTIMES.indexOf(runtime) + 1) % 3];
    const objectName = { ring: "r", queue: "q", topic: "t", event: "e", blackboard: "bb" }[kind];
    // One park lasts a minute: only the peer's wake-up can end the wait in time.
    const previous = setWaitSetSliceMs(60_000);
    for (const mode of ["sync", "async"] as const) {
      const peer = startFixture(other, "waitset_peer", [name, kind, objectName, "150"], 30_000);
      await peer.line(/^ready/, 30_000);
      const started = performance.now();
      const ready = mode === "sync"
        ? set.wait({ timeoutMs: 10_000, wait: "park" })
        : await within(set.waitAsync({ timeoutMs: 10_000 }), 15_000, "waitAsync");
      const waited = performance.now() - started;
      assert.is(ready, expected, `${mode}: the ${kind} is what became ready`);
      assert.ok(waited < 5000, `${mode}: woken by the peer, not by a timeout (${waited.toFixed(0)} ms)`);
      await peer.done;
      if (kind === "ring") o.ring.receive({ timeoutMs: 100 });
      if (kind === "queue") o.queue.receive({ timeoutMs: 100 });
      if (kind === "topic") o.subscriber.receive({ timeoutMs: 100 });
    }
    setWaitSetSliceMs(previous);
    segment.unlink();
  });
}

test.run();
