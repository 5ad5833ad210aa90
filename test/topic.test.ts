import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Segment } from "../ts/mod.ts";
import {
  cleanup,
  type Runtime,
  runtime,
  RUNTIMES,
  startFixture,
  throwsCode,
  uniqueName,
  within,
} from "./helpers.ts";
import { fill, lengthOf, MAX_LENGTH, problem } from "./fixtures/topic_common.ts";

const test = suite(`Topic (${runtime})`);
test.after.each(cleanup);
test.after(cleanup);

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
/** How many messages the cross-process fan-out carries (WSHM_TOPIC_MESSAGES for a long run). */
const FANOUT_MESSAGES = Number(process.env.WSHM_TOPIC_MESSAGES ?? 20_000);

test("every subscriber gets every message in order; a late one gets the history", () => {
  const name = uniqueName("topic-basic");
  using segment = Segment.create(name, { size: 1 << 20 });
  const topic = segment.topic("t", { maxMessage: 64, depth: 8, history: 2 });
  const early = topic.subscribe();
  for (let i = 0; i < 3; i++) topic.publish(`m${i}`);
  const late = topic.subscribe();
  assert.equal([0, 1, 2].map(() => text(early.receive({ timeoutMs: 100 }))), ["m0", "m1", "m2"]);
  assert.equal([0, 1].map(() => text(late.receive({ timeoutMs: 100 }))), ["m1", "m2"], "history 2");
  assert.is(early.tryReceive(), null, "nothing more");
  throwsCode(() => late.receive({ timeoutMs: 20 }), "Timeout", "an empty topic times out");
  const m = (topic.publish("x", { type: 7 }), early.read({ timeoutMs: 100 }));
  assert.equal([m.text(), m.type, m.seq, m.skipped], ["x", 7, 3, 0]);
  assert.ok(early.release(), "a held message under the block policy is always whole");
  const stats = topic.stats();
  assert.is(stats.published, 4);
  assert.equal(stats.attached.map((s) => [s.index, s.lag]), [[0, 0], [1, 1]]);
  early.close();
  late.close();
  assert.is(topic.stats().attached.length, 0, "closed subscribers free their records");
  segment.unlink();
});

test("block policy: the publisher waits for the slowest subscriber, and a closed one releases it", () => {
  const name = uniqueName("topic-block");
  using segment = Segment.create(name, { size: 1 << 20 });
  const topic = segment.topic("t", { maxMessage: 16, depth: 4 });
  const fast = topic.subscribe();
  const slow = topic.subscribe();
  for (let i = 0; i < 4; i++) assert.ok(topic.tryPublish(`${i}`), `message ${i} fits`);
  assert.not.ok(topic.tryPublish("4"), "full: nobody released message 0");
  for (let i = 0; i < 4; i++) fast.receive({ timeoutMs: 100 });
  assert.not.ok(topic.tryPublish("4"), "still full: the slow subscriber holds it");
  throwsCode(() => topic.publish("4", { timeoutMs: 20 }), "Timeout", "publish times out");
  slow.receive({ timeoutMs: 100 });
  assert.ok(topic.tryPublish("4"), "room once the slowest released");
  slow.close();
  for (let i = 5; i < 8; i++) assert.ok(topic.tryPublish(`${i}`), "a closed subscriber holds nothing back");
  assert.equal([4, 5, 6, 7].map(() => text(fast.receive({ timeoutMs: 100 }))), ["4", "5", "6", "7"]);
  segment.unlink();
});

test("overwrite policy: the publisher never waits and a lagging subscriber is told exactly what it missed", () => {
  const name = uniqueName("topic-overwrite");
  using segment = Segment.create(name, { size: 1 << 20 });
  const topic = segment.topic("t", { maxMessage: 16, depth: 4, policy: "overwrite" });
  const sub = topic.subscribe();
  for (let i = 0; i < 10; i++) topic.publish(`${i}`);
  const got: number[] = [];
  for (let m = sub.tryRead(); m !== null; m = sub.tryRead()) {
    got.push(Number(m.text()));
    assert.ok(sub.release());
  }
  assert.equal(got, [7, 8, 9], "the newest depth - 1 messages are still there");
  assert.is(sub.missed, 7, "and the 7 before them are counted as missed");
  // A message overwritten while held in place fails its release check.
  topic.publish("10");
  const held = sub.read({ timeoutMs: 100 });
  assert.is(held.text(), "10");
  for (let i = 11; i < 16; i++) topic.publish(`${i}`);
  assert.not.ok(sub.release(), "overwritten while held");
  assert.is(sub.missed, 8);
  segment.unlink();
});

test("loan/commit publishes in place; abort drops the loan; bad input gets coded errors", () => {
  const name = uniqueName("topic-loan");
  using segment = Segment.create(name, { size: 1 << 20 });
  const topic = segment.topic("t", { maxMessage: 32, depth: 4 });
  const sub = topic.subscribe();
  const view = topic.loan(3);
  view.set([1, 2, 3]);
  assert.is(sub.tryReceive(), null, "a loan is invisible until commit()");
  topic.commit();
  assert.equal(sub.receive({ timeoutMs: 100 }), new Uint8Array([1, 2, 3]));
  topic.loan(5).fill(9);
  topic.abort();
  assert.is(sub.tryReceive(), null, "an aborted loan is never published");
  throwsCode(() => topic.commit(), "InvalidArgument", "commit without a loan");
  throwsCode(() => topic.publish(new Uint8Array(33)), "TooLarge", "longer than maxMessage");
  assert.throws(() => topic.tryLoanAt(-1), RangeError);
  assert.throws(() => segment.topic("u", { depth: 3 }), RangeError, "depth not a power of two");
  assert.throws(() => segment.topic("u", { subscribers: 65 }), RangeError);
  assert.throws(() => segment.topic("u", { history: 100, depth: 64 }), RangeError);
  assert.throws(() => segment.topic("u", { policy: "drop" as "block" }), TypeError);
  const few = segment.topic("few", { subscribers: 2 });
  const subs = [few.subscribe(), few.subscribe()];
  throwsCode(() => few.subscribe(), "Busy", "every record taken");
  subs[0].close();
  few.subscribe().close();
  segment.unlink();
});

test("async: receiveAsync waits without blocking the event loop; publishAsync waits for room", async () => {
  const name = uniqueName("topic-async");
  using segment = Segment.create(name, { size: 1 << 20 });
  const topic = segment.topic("t", { maxMessage: 16, depth: 2 });
  const sub = topic.subscribe();
  const pending = sub.receiveAsync({ timeoutMs: 2000 });
  let ticked = false;
  setTimeout(() => (ticked = true), 5);
  setTimeout(() => topic.publish("late"), 30);
  assert.is(text(await within(pending, 3000, "receiveAsync")), "late");
  assert.ok(ticked, "the event loop ran while it waited");
  topic.publish("a");
  topic.publish("b");
  const blocked = topic.publishAsync("c", { timeoutMs: 2000 });
  setTimeout(() => sub.receive({ timeoutMs: 100 }), 20);
  await within(blocked, 3000, "publishAsync");
  assert.equal([text(sub.receive({ timeoutMs: 100 })), text(sub.receive({ timeoutMs: 100 }))], ["b", "c"]);
  const late = await sub.receiveAsync({ timeoutMs: 20 }).then(() => "resolved", (e) => e.code);
  assert.is(late, "Timeout", "an empty topic times out asynchronously too");
  segment.unlink();
});

/** Starts subscriber processes (runtimes in turn) and waits until each has attached. */
async function subscribers(name: string, count: number, messages: number, delayEvery: (i: number) => number) {
  const children = Array.from({ length: count }, (_, i) => {
    const rt: Runtime = RUNTIMES[i % RUNTIMES.length];
    return {
      rt,
      child: startFixture(
        rt,
        "topic_peer",
        ["sub", name, "t", String(messages), String(delayEvery(i))],
        240_000,
      ),
    };
  });
  for (const { child } of children) await child.line(/^ready/, 60_000);
  return children;
}

async function results(children: { rt: Runtime; child: ReturnType<typeof startFixture> }[]) {
  const out = [];
  for (const { rt, child } of children) {
    const run = await within(child.done, 240_000, `subscriber (${rt})`);
    assert.is(run.code, 0, `subscriber (${rt}) failed:\n${run.stdout}\n${run.stderr}`);
    out.push(JSON.parse(run.stdout.trim().split("\n").pop()!));
  }
  return out;
}

function publishRange(topic: ReturnType<Segment["topic"]>, from: number, to: number): void {
  for (let seq = from; seq < to; seq++) {
    const view = topic.loan(lengthOf(seq), { timeoutMs: 60_000 });
    fill(view, seq);
    topic.commit();
  }
}

test(`fan-out: 8 subscriber processes of all three runtimes each get all ${FANOUT_MESSAGES} messages, in order, byte-exact`, async () => {
  const name = uniqueName("topic-fanout");
  using segment = Segment.create(name, { size: 4 << 20 });
  const topic = segment.topic("t", { maxMessage: MAX_LENGTH, depth: 256, subscribers: 8 });
  const children = await subscribers(name, 8, FANOUT_MESSAGES, () => 0);
  publishRange(topic, 0, FANOUT_MESSAGES);
  for (const r of await results(children)) {
    assert.equal([r.received, r.missed, r.first, r.last, r.gaps], [
      FANOUT_MESSAGES,
      0,
      0,
      FANOUT_MESSAGES - 1,
      0,
    ]);
  }
  segment.unlink();
});

test("overwrite: a slow subscriber stalls nobody, and received + missed is exact for each", async () => {
  const name = uniqueName("topic-slow");
  using segment = Segment.create(name, { size: 4 << 20 });
  const topic = segment.topic("t", {
    maxMessage: MAX_LENGTH,
    depth: 64,
    subscribers: 4,
    policy: "overwrite",
  });
  const total = 5000;
  const children = await subscribers(name, 3, total, (i) => (i === 0 ? 10 : 0));
  const started = performance.now();
  publishRange(topic, 0, total);
  const publishMs = performance.now() - started;
  // The last message must reach the slow one too: it is never overwritten.
  const rows = await results(children);
  for (const r of rows) {
    assert.is(r.received + r.missed, total, `received ${r.received} + missed ${r.missed} = ${total}`);
    assert.is(r.last, total - 1);
  }
  assert.ok(rows[0].missed > 0, `the slow subscriber (1 ms sleep every 10) missed some (${rows[0].missed})`);
  assert.ok(publishMs < 20_000, `publishing never waited on it (${publishMs.toFixed(0)} ms)`);
  segment.unlink();
});

test("block: a SIGKILLed subscriber is reaped and releases the back-pressure", async () => {
  const name = uniqueName("topic-reap");
  using segment = Segment.create(name, { size: 1 << 20 });
  const topic = segment.topic("t", { maxMessage: MAX_LENGTH, depth: 16, subscribers: 4 });
  const other: Runtime = RUNTIMES[(RUNTIMES.indexOf(runtime) + 1) % 3];
  const victim = startFixture(other, "topic_peer", ["sub", name, "t", "1000000", "1"], 60_000);
  await victim.line(/^ready/, 60_000);
  const local = topic.subscribe();
  victim.kill("SIGKILL");
  await victim.done;
  // 100 messages through a depth of 16: only possible once the dead subscriber is reaped.
  for (let seq = 0; seq < 100; seq++) {
    topic.publish(`${seq}`, { timeoutMs: 5000 });
    assert.is(text(local.receive({ timeoutMs: 1000 })), `${seq}`);
  }
  assert.is(topic.stats().attached.length, 1, "the dead record is free again");
  segment.unlink();
});

test("a publisher killed mid-write exposes no torn message; the next publisher takes over", async () => {
  const name = uniqueName("topic-pubdie");
  using segment = Segment.create(name, { size: 1 << 20 });
  const topic = segment.topic("t", { maxMessage: MAX_LENGTH, depth: 16, subscribers: 4 });
  const sub = topic.subscribe();
  const other: Runtime = RUNTIMES[(RUNTIMES.indexOf(runtime) + 2) % 3];
  const dying = startFixture(other, "topic_peer", ["pub-die-mid-write", name, "t", "5"], 60_000);
  const run = await within(dying.done, 60_000, "dying publisher");
  assert.is(run.signal, "SIGKILL", run.stderr);
  for (let seq = 0; seq < 5; seq++) assert.is(problem(sub.receive({ timeoutMs: 1000 }), seq), undefined);
  throwsCode(
    () => sub.receive({ timeoutMs: 300, wait: "park" }),
    "PeerDied",
    "the dead publisher, reported once",
  );
  throwsCode(() => sub.receive({ timeoutMs: 50 }), "Timeout", "then an ordinary empty topic");
  assert.ok(topic.attachPublisher(), "taken over from the dead publisher");
  publishRange(topic, 5, 8);
  for (let seq = 5; seq < 8; seq++) {
    assert.is(problem(sub.receive({ timeoutMs: 1000 }), seq), undefined, `seq ${seq}`);
  }
  segment.unlink();
});

test("publishers SIGKILLed at random: subscribers of every runtime never see a torn message", async () => {
  const name = uniqueName("topic-kills");
  using segment = Segment.create(name, { size: 4 << 20 });
  const topic = segment.topic("t", {
    maxMessage: MAX_LENGTH,
    depth: 64,
    subscribers: 4,
    policy: "overwrite",
  });
  const sub = topic.subscribe();
  let checked = 0;
  for (let round = 0; round < 3; round++) {
    const rt = RUNTIMES[round];
    const pub = startFixture(rt, "topic_peer", ["pub-forever", name, "t"], 60_000);
    await pub.line(/^publishing/, 60_000);
    const until = performance.now() + 50 + Math.random() * 150;
    while (performance.now() < until) {
      const m = sub.tryRead();
      if (m === null) continue;
      const wrong = problem(m.bytes, m.seq);
      if (sub.release()) {
        assert.is(wrong, undefined, "a whole message is exactly its seq's");
        checked++;
      }
    }
    pub.kill("SIGKILL");
    await pub.done;
  }
  assert.ok(checked > 0, "messages were read while publishers were killed");
  segment.unlink();
});

test.run();
