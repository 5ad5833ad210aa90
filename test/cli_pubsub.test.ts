// `wshm pub` and `wshm sub` driven as a user drives them: through the npm bin,
// as separate processes, with real signals.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Segment } from "../ts/mod.ts";
import { cleanup, root, type Run, runtime, startProcess, uniqueName, within } from "./helpers.ts";

const test = suite(`cli pub/sub (${runtime})`);
test.after.each(cleanup);

const node = runtime === "node" ? process.execPath : "node";
const start = (args: string[], input?: string) =>
  startProcess(node, [join(root, "bin", "wshm.mjs"), ...args], {
    label: `wshm ${args.join(" ")}`,
    input: input ?? "",
    timeoutMs: 60_000,
  });
const wshm = (args: string[], input?: string): Promise<Run> =>
  within(start(args, input).done, 65_000, `wshm ${args.join(" ")}`);
const lines = (run: Run) => run.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));

test("a subscriber started first waits for the topic, then gets stdin lines in order", async () => {
  const name = uniqueName("cli-ps");
  const sub = start(["sub", name, "news", "--count", "3", "--json"]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const pub = await wshm(["pub", name, "news", "--json"], "one\ntwö\nthree\n");
  assert.is(pub.code, 0, pub.stderr);
  assert.equal(lines(pub), [{ segment: name, topic: "news", published: 3, created: true }]);
  const run = await within(sub.done, 30_000, "sub");
  assert.is(run.code, 0, run.stderr);
  assert.equal(lines(run).map((r) => [r.seq, r.text]), [[0, "one"], [1, "twö"], [2, "three"]]);
  assert.ok(existsSync(`/dev/shm${name}`), "pub leaves the segment for late subscribers");
  const late = await wshm(["sub", name, "news", "--count", "2"]);
  assert.is(late.stdout, "one\ntwö\n", "a late subscriber gets the history (the last 16 by default)");
});

test("Ctrl-C ends sub by the signal after it detached; pub --remove removes what it created", async () => {
  const name = uniqueName("cli-ps-int");
  assert.is((await wshm(["pub", name, "t", "a"])).code, 0);
  const sub = start(["sub", name, "t"]);
  await sub.line(/^a$/, 30_000);
  sub.kill("SIGINT");
  const run = await within(sub.done, 30_000, "sub after SIGINT");
  assert.is(run.code ?? 128 + 2, 130, `exit ${run.code} ${run.signal}: ${run.stderr}`);
  using segment = Segment.open(name);
  assert.is(segment.topic("t", { create: false }).stats().attached.length, 0, "it detached before exiting");
  segment.unlink();
  const removed = uniqueName("cli-ps-rm");
  assert.is((await wshm(["pub", removed, "t", "x", "--remove"])).code, 0);
  assert.not.ok(existsSync(`/dev/shm${removed}`), "--remove: nothing left");
});

test("usage and failures: a name without a slash (2), a topic that never appears (1, Timeout), a kind mismatch", async () => {
  const bad = await wshm(["pub", "news", "t", "x"]);
  assert.is(bad.code, 2, bad.stderr);
  const name = uniqueName("cli-ps-bad");
  const never = await wshm(["sub", name, "t", "--timeout", "100", "--json"]);
  assert.is(never.code, 1);
  assert.is(JSON.parse(never.stdout.trim() || never.stderr.trim()).error.code, "Timeout");
  using segment = Segment.create(name, { size: 1 << 20 });
  segment.queue("jobs");
  const mismatch = await wshm(["sub", name, "jobs", "--timeout", "100"]);
  assert.is(mismatch.code, 1);
  assert.match(mismatch.stderr, /KindMismatch/);
  const tooLarge = await wshm(["pub", name, "small", "--max-message", "4", "toolong"]);
  assert.is(tooLarge.code, 1);
  assert.match(tooLarge.stderr, /TooLarge/);
  segment.unlink();
});

test("inspect shows a topic's publisher, subscribers and lag; ls --objects lists it with its parties", async () => {
  const name = uniqueName("cli-ps-insp");
  using segment = Segment.create(name, { size: 1 << 20 });
  const topic = segment.topic("t", { maxMessage: 64 });
  const sub = topic.subscribe();
  topic.publish("a");
  topic.publish("b");
  const inspected = await wshm(["inspect", name, "--json"]);
  assert.is(inspected.code, 0, inspected.stderr);
  const row = JSON.parse(inspected.stdout).objects.find((o: { kind: string }) => o.kind === "topic");
  assert.equal([row.publisher, row.published, row.attached, row.subscriber0Pid, row.subscriber0Lag], [
    process.pid,
    2,
    1,
    process.pid,
    2,
  ]);
  const text = await wshm(["inspect", name]);
  assert.match(text.stdout, new RegExp(`subscriber 0\\s+pid ${process.pid}, lag 2, missed 0`));
  const listed = await wshm(["ls", "--objects", "--json"]);
  assert.is(listed.code, 0, listed.stderr);
  const service = JSON.parse(listed.stdout).services.find((s: { segment: string }) => s.segment === name);
  assert.equal(service.parties.map((p: { role: string; alive: boolean }) => [p.role, p.alive]), [
    ["publisher", true],
    ["subscriber", true],
  ]);
  sub.close();
  segment.unlink();
});

test.run();
