import { suite } from "uvu";
import * as assert from "uvu/assert";
import { discover, Segment, waitForService } from "../ts/mod.ts";
import { cleanup, runtime, RUNTIMES, startFixture, uniqueName, within } from "./helpers.ts";

const test = suite(`Discovery (${runtime})`);
test.after.each(cleanup);
test.after(cleanup);

const other = RUNTIMES[(RUNTIMES.indexOf(runtime) + 1) % 3];

test("lists every object of every segment with its parties, alive or dead", async () => {
  const name = uniqueName("disc");
  using segment = Segment.create(name, { size: 1 << 20 });
  const topic = segment.topic("t");
  topic.attachPublisher();
  segment.ring("r").attachProducer();
  segment.queue("q");
  const peer = startFixture(other, "discovery_peer", ["subscribe", name], 60_000);
  await peer.line(/^ready/, 60_000);
  const mine = () => discover({ prefix: name }).services.filter((s) => s.segment === name);
  const services = mine();
  assert.equal(services.map((s) => `${s.name}:${s.kind}`).sort(), ["q:queue", "r:ring", "t:topic"]);
  const t = services.find((s) => s.name === "t")!;
  assert.equal(
    t.parties.map((p) => [p.role, p.pid, p.alive]),
    [["publisher", process.pid, true], ["subscriber", peer.pid, true]],
  );
  assert.ok(t.live);
  assert.equal(services.find((s) => s.name === "r")!.parties.map((p) => p.role), ["producer"]);
  assert.not.ok(services.find((s) => s.name === "q")!.live, "a queue records no parties");
  peer.kill("SIGKILL");
  await peer.done;
  const after = mine().find((s) => s.name === "t")!;
  assert.equal(after.parties.map((p) => [p.role, p.alive]), [["publisher", true], ["subscriber", false]]);
  segment.unlink();
});

test("a segment that is not readable is a problem with a code, not a failure", () => {
  const name = uniqueName("disc-bad");
  using segment = Segment.create(name, { size: 1 << 20 });
  // Break the layout version: discovery reports it and carries on.
  segment.view().setUint32(4, 999, true);
  const { problems } = discover({ prefix: name });
  assert.equal(problems.map((p) => [p.segment, p.code]), [[name, "VersionMismatch"]]);
  segment.unlink();
});

test("waitForService resolves when another process creates the service, and times out with a code", async () => {
  const name = uniqueName("disc-wait");
  const peer = startFixture(other, "discovery_peer", ["create", name, "200"], 60_000);
  const found = await within(
    waitForService("late", { segment: name, kind: "topic", timeoutMs: 30_000 }),
    35_000,
    "wait",
  );
  assert.equal([found.segment, found.name, found.kind], [name, "late", "topic"]);
  const late = await waitForService("never", { segment: name, timeoutMs: 50 }).then(
    () => "found",
    (e) => e.code,
  );
  assert.is(late, "Timeout");
  peer.kill("SIGKILL");
  await peer.done;
});

test.run();
