import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { BroadcastChannel } from "../ts/mod.ts";
import { segmentNameOf } from "../ts/broadcast.ts";
import { runtime, RUNTIMES, startFixture, throwsCode, within } from "./helpers.ts";

const test = suite(`BroadcastChannel (${runtime})`);

const unique = (tag: string) => `test-${tag}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const segmentPath = (name: string) => `/dev/shm${segmentNameOf(name)}`;

function nextMessage(channel: BroadcastChannel, ms = 10_000): Promise<unknown> {
  return within(
    new Promise((resolve) =>
      channel.addEventListener("message", (e) => resolve((e as MessageEvent).data), { once: true })
    ),
    ms,
    "a message",
  );
}

test("reaches every other channel of the name, not itself; the last close removes the segment", async () => {
  const name = unique("local");
  const a = new BroadcastChannel(name);
  const b = new BroadcastChannel(name);
  const c = new BroadcastChannel(name);
  assert.ok(existsSync(segmentPath(name)), "the first channel created the segment");
  let own = 0;
  a.onmessage = () => own++;
  const atB = nextMessage(b), atC = nextMessage(c);
  a.postMessage({ n: 1, list: [1, "two", null, true], bytes: new Uint8Array([1, 2]), when: new Date(5) });
  const expected = { n: 1, list: [1, "two", null, true], bytes: new Uint8Array([1, 2]), when: new Date(5) };
  assert.equal(await atB, expected);
  assert.equal(await atC, expected);
  await new Promise((r) => setTimeout(r, 20));
  assert.is(own, 0, "a channel does not receive its own messages");
  a.close();
  b.close();
  assert.ok(existsSync(segmentPath(name)), "one channel is still open");
  c.close();
  assert.not.ok(existsSync(segmentPath(name)), "the last close removed the segment");
  throwsCode(() => a.postMessage(1), "Closed", "post after close");
  a.close(); // idempotent
});

test("bad input: values MessagePack cannot carry, messages too large", () => {
  const name = unique("bad");
  const a = new BroadcastChannel(name, { maxMessage: 64 });
  assert.throws(() => a.postMessage(() => 1), "a function is not a value");
  throwsCode(() => a.postMessage("x".repeat(100)), "TooLarge", "longer than maxMessage");
  assert.throws(() => new BroadcastChannel(name, { depth: 3 }), RangeError);
  a.close();
  assert.not.ok(existsSync(segmentPath(name)));
});

test("Deno, Node and Bun channels of one name talk to each other", async () => {
  const name = unique("cross");
  const here = new BroadcastChannel(name);
  const others = RUNTIMES.filter((rt) => rt !== runtime);
  const peers = others.map((rt) => ({ rt, child: startFixture(rt, "broadcast_peer", [name], 60_000) }));
  for (const { child } of peers) await child.line(/^ready/, 60_000);
  const pongs: { pong: number; by: string; echo: unknown }[] = [];
  const both = new Promise<void>((resolve) => {
    here.onmessage = (e) => {
      pongs.push(e.data as never);
      if (pongs.length === others.length) resolve();
    };
  });
  const value = { text: "héllo", nested: { a: [1.5, -2] }, bytes: new Uint8Array([255, 0]) };
  here.postMessage({ ping: 7, value });
  await within(both, 20_000, "pongs from both runtimes");
  assert.equal(pongs.map((p) => p.by).sort(), [...others].sort(), "each other runtime answered");
  for (const p of pongs) {
    assert.equal([p.pong, p.echo], [7, value], `${p.by} decoded and re-encoded the value`);
  }
  here.postMessage({ stop: true });
  for (const { child } of peers) {
    const run = await within(child.done, 20_000, "peer exit");
    assert.is(run.code, 0, run.stderr);
  }
  here.close();
  assert.not.ok(existsSync(segmentPath(name)), "no segment left behind");
});

test.run();
