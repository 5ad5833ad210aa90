// The bridge benchmark (bench/bridge.ts, bench/bridge_peer.ts), run very
// briefly so that it cannot rot: one round of a few hundred round trips and a
// few thousand messages must give rows that can be right, judge its targets,
// and leave nothing behind (no peer process, no segment, no nats-server),
// also when it is stopped with SIGTERM in the middle. Runtime-independent (it
// spawns its own processes under Deno and Node): it runs under the first
// runtime only. Without nats-server every test is registered as skipped.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Child, root, runtime, startProcess, within } from "./helpers.ts";
import { natsServerAvailable } from "./nats_server.ts";

const test = suite(`bridge benchmark (${runtime})`);
const RUN_MS = 150_000;

/** The command that runs bench/bridge.ts under this runtime with `args`. */
function benchProcess(args: string[], label: string): Child {
  const bin = (name: string) => join(root, "node_modules", ".bin", name);
  const [command, argv] = runtime === "deno"
    ? [bin("deno"), ["run", "-A", "--quiet", join(root, "bench", "bridge.ts"), ...args]]
    : runtime === "bun"
    ? [bin("bun"), ["run", join(root, "bench", "bridge.ts"), ...args]]
    : [process.execPath, [join(root, "dist", "bench", "bridge.js"), ...args]];
  return startProcess(command, argv, { label, timeoutMs: RUN_MS });
}

interface Line {
  [key: string]: unknown;
}

function jsonLines(stdout: string): Line[] {
  return stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return undefined;
  }
}

/** Every process, segment and the nats-server of the run `benchPid` are gone (waits up to `ms`). */
async function assertAllGone(benchPid: number, natsPid: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const leftovers = () => {
    const found: string[] = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const line = commandLine(Number(entry));
      // Its peers carry its segment names or its NATS subjects (both hold its pid).
      if (
        line?.includes("bridge_peer") &&
        (line.includes(`-${benchPid}-`) || line.includes(`bench${benchPid}x`))
      ) {
        found.push(`process ${entry}: ${line}`);
      }
    }
    const nats = commandLine(natsPid);
    if (nats?.includes("nats-server")) found.push(`nats-server ${natsPid}`);
    for (const f of readdirSync("/dev/shm")) {
      if (f.startsWith(`wshm-bench-bridge-${benchPid}-`)) found.push(f);
    }
    return found;
  };
  let found = leftovers();
  while (found.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    found = leftovers();
  }
  assert.equal(found, [], "left behind");
}

if (!natsServerAvailable()) {
  test.skip("nats-server not installed (Debian: apt-get install nats-server)", () => {});
} else {
  test("a tiny run measures every case, judges the targets and leaves nothing", async () => {
    const bench = benchProcess(
      ["--json", "--rounds", "1", "--trips", "200", "--count", "3000"],
      "bench/bridge.ts",
    );
    const run = await within(bench.done, RUN_MS, "the bridge benchmark");
    assert.equal(run.code, 0, run.stderr);
    const lines = jsonLines(run.stdout);
    const started = lines.find((l) => l.natsServer !== undefined) as {
      natsServer: { pid: number };
      pid: number;
    };
    assert.ok(started, "no natsServer line");
    const rows = lines.filter((l) => typeof l.median === "number");
    // deno-lint-ignore no-explicit-any
    const byCase = (name: string) => rows.find((r) => r.case === name) as Record<string, any>;
    const bridged = byCase("bridge round trip, 64 B");
    const raw = byCase("baseline: NATS request/reply round trip, 64 B");
    assert.ok(bridged && raw, `rows: ${rows.map((r) => r.case)}`);
    for (const row of [bridged, raw]) {
      assert.ok(row.median > 1000 && row.median < 1e8, `${row.case}: ${row.median} ns`);
      assert.ok(row.p99 >= row.p50, `${row.case}: p99 ${row.p99} < p50 ${row.p50}`);
      assert.equal(row.roundTrips, 200);
    }
    // The bridged path contains a whole NATS round trip between the same runtimes, and two more hops.
    assert.ok(bridged.median > raw.median, `bridged ${bridged.median} ns <= raw ${raw.median} ns`);
    assert.equal(bridged.baseline, raw.case);
    assert.equal(bridged.missed, [0], "failed calls");
    const hops = rows.filter((r) => String(r.case).startsWith("hop alone"));
    assert.equal(hops.length, 2, "the two hops alone");
    const block = byCase("bridge topic 64 B, block policy");
    const overwrite = byCase("bridge topic 64 B, overwrite policy");
    const rawTopic = byCase("baseline: NATS publish/subscribe, 64 B");
    for (const row of [block, overwrite, rawTopic]) {
      assert.ok(row && row.median > 0 && Number.isFinite(row.median), `${row?.case}: ${row?.median}`);
      assert.equal(row.unit, "msgs/s");
      assert.equal(row.messages, 3000);
    }
    const queue = byCase("bridge queue 64 B (pulled by the importer)");
    assert.ok(queue && queue.median > 0 && Number.isFinite(queue.median), `queue: ${queue?.median}`);
    assert.equal(queue.baseline, rawTopic.case);
    // "block" and the queue lose nothing across the bridge (the run would have failed; the rows say so too).
    assert.equal(block.missed, [0]);
    assert.equal(queue.missed, [0]);
    assert.equal(rawTopic.missed, [0]);
    const targets = lines.filter((l) => typeof l.target === "string");
    assert.equal(targets.length, 2, JSON.stringify(targets));
    const rr = targets.find((t) => t.case === bridged.case)!;
    assert.equal(rr.limit, 1.1);
    assert.equal(rr.met, (rr.value as number) <= 1.1);
    assert.ok(Math.abs((rr.value as number) - bridged.median / raw.median) < 0.01, `ratio ${rr.value}`);
    const rate = targets.find((t) => t.case === block.case)!;
    assert.equal(rate.met, (rate.value as number) >= 0.8);
    assert.equal(bridged.verdict.met, rr.met);
    await assertAllGone(started.pid, started.natsServer.pid, 15_000);
  });

  test("stopped with SIGTERM mid-run, it removes its processes, segments and nats-server", async () => {
    const bench = benchProcess(
      ["--json", "--rounds", "3", "--trips", "50000", "--only", "rr"],
      "bench/bridge.ts",
    );
    const first = await bench.line(/"natsServer"/, 60_000);
    const started = JSON.parse(first) as { natsServer: { pid: number }; pid: number };
    // Wait until a round runs with its peers (their segments exist), then stop it.
    const deadline = Date.now() + 60_000;
    while (!readdirSync("/dev/shm").some((f) => f.startsWith(`wshm-bench-bridge-${started.pid}-`))) {
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    bench.kill("SIGTERM");
    const run = await within(bench.done, 30_000, "the stopped benchmark");
    assert.ok(run.code !== 0 || run.signal !== null, "it went on to the end");
    await assertAllGone(started.pid, started.natsServer.pid, 15_000);
    assert.ok(!existsSync(`/proc/${started.pid}`) || commandLine(started.pid) === undefined);
  });

  test("a bad option is refused with a code", async () => {
    for (const args of [["--rounds", "0"], ["--runtimes", "deno"], ["--policies", "fifo"]]) {
      const run = await within(benchProcess(args, "bench/bridge.ts").done, 60_000, `bench ${args.join(" ")}`);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, "BRIDGE_BENCH_BAD_OPTION");
    }
  });
}

test.run();
