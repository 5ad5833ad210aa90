import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Segment } from "../ts/mod.ts";
import { cleanup, runFixture, RUNTIMES, uniqueName, within } from "./helpers.ts";

const test = suite("cross-runtime");
test.after.each(cleanup);

const ITERATIONS = 1_000_000;

test("a Deno, a Node and a Bun process each add 1,000,000 under one mutex: exactly 3,000,000", async () => {
  const name = uniqueName("counter");
  using segment = Segment.create(name, { size: 65536 });
  const view = new DataView(segment.bytes("counter", 8).buffer, segment.bytes("counter", 8).byteOffset, 8);
  segment.mutex("counter-lock");
  const runs = RUNTIMES.map((rt) =>
    runFixture(rt, "counter", [name, String(ITERATIONS), String(RUNTIMES.length)], 240_000)
  );
  const outputs = await within(Promise.all(runs), 250_000, "three counters");
  for (const out of outputs) assert.match(out, /done \d+/);
  assert.is(view.getFloat64(0, true), ITERATIONS * RUNTIMES.length, "every increment counted once");
  assert.is(segment.mutex("counter-lock").holder, 0, "the mutex is free at the end");
  segment.unlink();
});

test.run();
