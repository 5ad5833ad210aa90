// Embedding: a C program that hosts core.wasm in JavaScriptCore (embed/host.c)
// exchanges live with processes running the repository's TypeScript. The C
// host is built once per run into a temporary folder; where gcc or the
// JavaScriptCore package is missing (embed/build.sh exits 77) every test is
// registered with uvu's skip, so the runner counts it as skipped, never passed.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Segment } from "../ts/mod.ts";
import {
  type Child,
  cleanup,
  root,
  runtime,
  startFixture,
  startProcess,
  uniqueName,
  within,
} from "./helpers.ts";

const test = suite(`embedding: a C host on JavaScriptCore with ${runtime} and Deno`);
test.after.each(cleanup);

const folder = mkdtempSync(join(tmpdir(), "wshm-embed-"));
test.after(() => rmSync(folder, { recursive: true, force: true }));
const host = join(folder, "wshm-embed");
const core = join(root, "build", "core.wasm");
const deno = join(root, "node_modules", ".bin", "deno");
const peer = join(root, "embed", "peer.ts");

const build = spawnSync("bash", [join(root, "embed", "build.sh"), host], { encoding: "utf8" });
const cannotBuildHere = build.status === 77 || (build.error as NodeJS.ErrnoException)?.code === "ENOENT";
if (cannotBuildHere) console.log(`embedding tests skipped: ${build.stderr?.trim() || build.error}`);

/** Registers a test that needs the C host: skipped if it cannot be built here, failing if it does not build. */
function withHost(name: string, body: () => Promise<void>): void {
  if (cannotBuildHere) {
    test.skip(name, body);
  } else if (build.status !== 0) {
    test(name, () => {
      throw new Error(`embed/build.sh failed (${build.status ?? build.error}):\n${build.stderr}`);
    });
  } else {
    test(name, body);
  }
}

/** Starts any program (stdin closed); a watchdog kills it after `timeoutMs`. */
function start(command: string, args: string[], timeoutMs: number): Child {
  const label = `${command.split("/").pop()} ${args.slice(1, 3).join(" ")}`;
  return startProcess(command, args, { label, input: "", timeoutMs });
}

function exitedCleanly(
  result: { code: number | null; signal: string | null; stderr: string },
  who: string,
): void {
  assert.is(result.code, 0, `${who} exited with ${result.code ?? result.signal}: ${result.stderr}`);
}

const ITERATIONS = 300_000;

withHost(
  `the C host and a ${runtime} process each add ${ITERATIONS} under one mutex: exactly ${2 * ITERATIONS}`,
  async () => {
    const name = uniqueName("embed-counter");
    using segment = Segment.create(name, { size: 65536 });
    const bytes = segment.bytes("counter", 8);
    const counter = new DataView(bytes.buffer, bytes.byteOffset, 8);
    const mutex = segment.mutex("counter-lock");
    const args = [name, String(ITERATIONS), "2"];
    const c = start(host, [core, "counter", ...args], 120_000);
    const ts = startFixture(runtime, "counter", args, 120_000);
    const [cResult, tsResult] = await within(Promise.all([c.done, ts.done]), 130_000, "two counters");
    exitedCleanly(cResult, "the C host");
    exitedCleanly(tsResult, `the ${runtime} counter`);
    assert.match(cResult.stdout, `done ${c.pid}`);
    assert.is(counter.getFloat64(0, true), 2 * ITERATIONS, "every increment of both hosts counted once");
    assert.is(mutex.holder, 0, "the mutex is free at the end");
    segment.unlink();
  },
);

const ROUNDS = 2000;

withHost(
  `the C host creates a segment and plays ${ROUNDS} rounds of ping-pong with a Deno process through two semaphores`,
  async () => {
    const name = uniqueName("embed-ping");
    const c = start(host, [core, "ping", name, String(ROUNDS)], 120_000);
    await c.line(/^ready \d+$/);
    {
      // The header and directory the C host wrote pass the TypeScript host's checks.
      using opened = Segment.open(name, { timeoutMs: 5000 });
      assert.is(opened.creatorPid, c.pid, "the C host is recorded as the creator");
      assert.equal(
        opened.objects().map((o) => `${o.kind} ${o.name}`),
        ["semaphore ping", "semaphore pong", "bytes ball"],
      );
    }
    const p = start(deno, ["run", "-A", "--quiet", peer, "pong", name, String(ROUNDS)], 120_000);
    const [cResult, peerResult] = await within(Promise.all([c.done, p.done]), 130_000, "ping-pong");
    exitedCleanly(cResult, "the C host");
    exitedCleanly(peerResult, "the Deno peer");
    assert.match(cResult.stdout, `done ${ROUNDS}`);
    assert.match(peerResult.stdout, `peer done ${ROUNDS}`);
  },
);

const REQUESTS = 300;

for (const clients of [0, 4]) {
  const mode = clients === 0 ? "classic" : "many-client";
  withHost(
    `the C host serves a ${mode} channel; a Deno process and this ${runtime} process each get ${REQUESTS} answers`,
    async () => {
      const name = uniqueName(`embed-rpc${clients}`);
      const c = start(host, [core, "serve", name, String(clients), String(2 * REQUESTS)], 120_000);
      await c.line(/^serving \d+$/);
      const p = start(deno, ["run", "-A", "--quiet", peer, "ask", name, String(REQUESTS)], 120_000);
      {
        using segment = Segment.open(name, { timeoutMs: 5000 });
        const rpc = segment.channel("rpc", { create: false });
        assert.is(rpc.stats().mode, mode);
        const decoder = new TextDecoder();
        for (let n = 0; n < REQUESTS; n++) {
          const request = `hello from ${runtime} ${n}`;
          const answer = await within(
            rpc.requestAsync(request, { timeoutMs: 30_000 }),
            40_000,
            `request ${n}`,
          );
          assert.is(decoder.decode(answer), request.toUpperCase(), `answer ${n}`);
        }
      }
      const [cResult, peerResult] = await within(Promise.all([c.done, p.done]), 130_000, "the channel");
      exitedCleanly(cResult, "the C server");
      exitedCleanly(peerResult, "the Deno client");
      assert.match(cResult.stdout, `served ${2 * REQUESTS}`);
      assert.match(peerResult.stdout, `asked ${REQUESTS}`);
    },
  );
}

withHost(
  `a mutex whose Deno holder is killed is taken over by the C host, and one whose C holder is killed by ${runtime}`,
  async () => {
    const name = uniqueName("embed-robust");
    using segment = Segment.create(name, { size: 65536 });
    const mutex = segment.mutex("robust");

    const denoHolder = start(deno, ["run", "-A", "--quiet", peer, "hold", name], 60_000);
    await denoHolder.line(/^holding \d+$/);
    denoHolder.kill("SIGKILL");
    await within(denoHolder.done, 10_000, "the killed Deno holder");
    const taker = await within(start(host, [core, "take", name], 60_000).done, 30_000, "the C taker");
    exitedCleanly(taker, "the C taker");
    assert.match(taker.stdout, `took ${segment.constants.OWNER_DIED}`, "the C host reports OWNER_DIED");

    const cHolder = start(host, [core, "hold", name], 60_000);
    await cHolder.line(/^holding \d+$/);
    cHolder.kill("SIGKILL");
    await within(cHolder.done, 10_000, "the killed C holder");
    using held = mutex.lock({ timeoutMs: 10_000 });
    assert.ok(held.ownerDied, `${runtime} finds the C holder dead (its pid and start time)`);
    held.consistent();
    segment.unlink();
  },
);

test.run();
