// The wshm CLI driven as a user drives it: through the npm bin (bin/wshm.mjs,
// so with exactly the permissions it grants), as separate processes, from a
// parent of any runtime. The CLI itself always runs under Deno.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Segment } from "../ts/mod.ts";
import {
  type Child,
  cleanup,
  root,
  type Run,
  runtime,
  startFixture,
  startProcess,
  uniqueName,
  within,
} from "./helpers.ts";

const test = suite("cli");
test.after.each(cleanup);

// Under Deno and Bun `process.execPath` is their own binary: the bin needs Node.
const node = runtime === "node" ? process.execPath : "node";

/** Starts `wshm ...args` through the bin; a watchdog kills it after `timeoutMs`. */
function start(
  args: string[],
  options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Child {
  return startProcess(node, [join(root, "bin", "wshm.mjs"), ...args], {
    label: `wshm ${args.join(" ")}`,
    input: options.input ?? "",
    env: options.env,
    timeoutMs: options.timeoutMs,
  });
}

/** Runs `wshm ...args` to the end (bounded). */
function wshm(
  args: string[],
  options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Run> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return within(start(args, { ...options, timeoutMs }).done, timeoutMs + 5000, `wshm ${args.join(" ")}`);
}

function expectExit(run: Run, code: number, what: string): void {
  assert.is(
    run.code,
    code,
    `${what}: exit code ${run.code} (signal ${run.signal}), stderr:\n${run.stderr}\nstdout:\n${run.stdout}`,
  );
}

const shmExists = (name: string) => existsSync(`/dev/shm${name}`);

/** Pids of processes whose command line mentions `text` (this test's own excluded). */
function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(text)) found.push(Number(entry));
    } catch {
      // Exited meanwhile.
    }
  }
  return found;
}

test("bad arguments are usage errors: exit 2 with the code on stderr", async () => {
  const cases: string[][] = [
    ["frobnicate"],
    [],
    ["serve"],
    ["ls", "--bogus"],
    ["client", "/x", "--count", "many"],
    ["serve", "/x", "--handler", "nope"],
    ["inspect", "/x", "--interval", "5"],
    ["client", "/x", "hello", "--count", "3"],
  ];
  const runs = await Promise.all(cases.map((args) => wshm(args)));
  runs.forEach((run, i) => {
    expectExit(run, 2, `wshm ${cases[i].join(" ")}`);
    if (cases[i].length > 0) {
      assert.match(run.stderr, /\[Usage\]/, `wshm ${cases[i].join(" ")} names the usage error`);
    }
  });
  const asJson = await wshm(["serve", "--json"]);
  expectExit(asJson, 2, "wshm serve --json");
  assert.is(JSON.parse(asJson.stderr.trim()).error.code, "Usage", "the error is JSON with --json");
  const help = await wshm(["inspect", "--help"]);
  expectExit(help, 0, "wshm inspect --help");
  assert.match(help.stdout, /--watch/);
});

test("errors of the library keep their code and exit 1", async () => {
  const name = uniqueName("cli-missing");
  const run = await wshm(["client", name, "hello"]);
  expectExit(run, 1, "client of a missing segment");
  assert.match(run.stderr, /\[NotFound\]/);
  const json = await wshm(["inspect", name, "--json"]);
  expectExit(json, 1, "inspect of a missing segment");
  assert.is(JSON.parse(json.stderr.trim()).error.code, "NotFound");
});

test("serve and client exchange messages, then serve removes its segment on SIGTERM and ends by it", async () => {
  const name = uniqueName("cli-serve");
  const server = start(["serve", name, "--handler", "upper", "--json"], { timeoutMs: 90_000 });
  try {
    const ready = JSON.parse((await server.output(/"event":"ready"/)).split("\n")[0]);
    const hello = await wshm(["client", name, "hello", "wshm", "wide wörld", "straße"]);
    expectExit(hello, 0, "client with messages");
    assert.equal(
      hello.stdout.trim().split("\n"),
      ["HELLO", "WSHM", "WIDE WÖRLD", "STRASSE"],
      "upper knows every script",
    );

    const lines = await wshm(["client", name, "--json"], { input: "one\ntwo words\n" });
    expectExit(lines, 0, "client reading stdin");
    const answers = lines.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(answers.map((a) => a.response), ["ONE", "TWO WORDS"]);
    assert.ok(answers.every((a) => a.roundTripUs > 0), "each answer has its round trip time");
    for (const line of lines.stdout.trim().split("\n")) {
      const printed = /"roundTripUs":([0-9.e+-]+)/.exec(line)![1];
      assert.ok(printed.replace(/^0\.0*|\./g, "").length <= 6, `a measurement, not float noise: ${printed}`);
    }

    const load = await wshm([
      "client",
      name,
      "--count",
      "500",
      "--size",
      "48",
      "--expect",
      "upper",
      "--json",
    ]);
    expectExit(load, 0, "client load run");
    const result = JSON.parse(load.stdout);
    assert.is(result.count, 500);
    assert.is(result.mismatches, 0, "every response is the upper-cased request");
    assert.ok(
      result.latencyUs.p50 > 0 && result.latencyUs.p99 >= result.latencyUs.p50,
      "percentiles are ordered",
    );

    const watch = await wshm(["inspect", name, "--watch", "--frames", "2", "--interval", "100", "--json"]);
    expectExit(watch, 0, "inspect --watch --frames 2 --json");
    const frames = watch.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.is(frames.length, 2, "one JSON line per refresh");
    const channel = frames[1].objects.find((o: { kind: string }) => o.kind === "channel");
    assert.is(channel?.server, ready.pid, "the channel's server is the serve process");
    assert.ok(channel.served >= 502, `the channel counted the requests (${channel.served})`);
    assert.ok(channel.rates && typeof channel.rates.served === "number", "the second frame has rates");

    // On screen, the channel's fields are words, not the core's raw names and numbers.
    const shown = await wshm(["inspect", name]);
    expectExit(shown, 0, "inspect of the channel");
    const row = shown.stdout.split("\n").find((l) => /^wshm\s+channel/.test(l)) ?? "";
    assert.match(row, /mode classic exchange/, row);
    assert.match(row, /exchange idle/, row);
    assert.match(row, new RegExp(`server pid ${ready.pid}`), row);
    assert.not.match(row, /accessHolder|state \d|clients 0|attached/, row);
  } finally {
    server.kill("SIGTERM");
  }
  const stopped = await within(server.done, 20_000, "server stopping");
  // Cleaned up, then ended by the signal, as the shell convention wants (docs/cli.md).
  assert.is(stopped.signal, "SIGTERM", `serve ended by SIGTERM (exit ${stopped.code}):\n${stopped.stderr}`);
  assert.match(stopped.stdout, /"event":"stopped"/);
  assert.not.ok(shmExists(name), "serve removed its segment");
});

test("inspect shows the holder of a held mutex; ls lists the segment as in use", async () => {
  const name = uniqueName("cli-inspect");
  const holder = startFixture(runtime, "cli_holder", [name, "hold"], 60_000);
  try {
    const pid = Number((await holder.line(/^holding \d+/)).split(" ")[1]);
    const json = await wshm(["inspect", name, "--json"]);
    expectExit(json, 0, "inspect --json");
    const report = JSON.parse(json.stdout);
    const lock = report.objects.find((o: { name: string }) => o.name === "jobs-lock");
    assert.is(lock?.kind, "mutex");
    assert.is(lock?.holder, pid, "the holder is the fixture's pid");
    assert.ok(
      report.peers.some((p: { role: string; pid: number; alive: boolean }) =>
        p.role === "creator" && p.pid === pid && p.alive
      ),
    );

    const text = await wshm(["inspect", name]);
    expectExit(text, 0, "inspect");
    assert.match(text.stdout, new RegExp(`jobs-lock\\s+mutex.*holder pid ${pid}`));

    const ls = await wshm(["ls", "--json"]);
    expectExit(ls, 0, "ls --json");
    const entry = JSON.parse(ls.stdout).find((s: { name: string }) => s.name === name);
    assert.ok(entry, "ls lists the segment");
    assert.is(entry.inUse, true);
    assert.ok(
      entry.peers.some((p: { role: string; pid: number }) => p.role === "mapper" && p.pid === pid),
      "the fixture maps it",
    );

    const rm = await wshm(["rm", name, "--json"]);
    expectExit(rm, 1, "rm of a segment in use");
    assert.is(JSON.parse(rm.stderr.trim()).error.code, "InUse");
    assert.ok(shmExists(name), "rm kept the segment in use");
  } finally {
    holder.kill("SIGKILL");
    await within(holder.done, 10_000, "holder exit");
  }
});

test("gc removes a segment whose peers died and keeps one in use", async () => {
  const dead = uniqueName("cli-gc-dead");
  const live = uniqueName("cli-gc-live");
  const leaver = startFixture(runtime, "cli_holder", [dead, "leave"], 60_000);
  await leaver.line(/^left \d+/);
  await within(leaver.done, 10_000, "leaver exit");
  const holder = startFixture(runtime, "cli_holder", [live, "hold"], 60_000);
  try {
    await holder.line(/^holding \d+/);
    const missing = uniqueName("cli-gc-missing");
    const dry = await wshm(["gc", dead, live, missing, "--dry-run", "--json"]);
    expectExit(dry, 0, "gc --dry-run");
    const planned = JSON.parse(dry.stdout);
    assert.equal(planned.removed, [], "a dry run lists nothing as removed");
    assert.equal(planned.wouldRemove, [dead], "it lists what it would remove");
    assert.equal(planned.missing, [missing], "and the name that is not there");
    assert.ok(shmExists(dead), "a dry run removes nothing");
    const dryText = await wshm(["gc", "--dry-run", missing]);
    expectExit(dryText, 0, "gc --dry-run of a missing name");
    assert.match(dryText.stdout, new RegExp(`no segment ${missing}`));
    assert.not.match(dryText.stdout, /No wshm segments in \/dev\/shm/, "it does not claim /dev/shm is empty");
    const dryBoth = await wshm(["gc", "--dry-run", dead]);
    assert.match(dryBoth.stdout, new RegExp(`would remove ${dead}`));

    const run = await wshm(["gc", dead, live, "--json"]);
    expectExit(run, 0, "gc");
    const result = JSON.parse(run.stdout);
    assert.equal(result.removed, [dead], "the segment whose creator and holder died is removed");
    assert.equal(result.kept.map((k: { name: string }) => k.name), [live], "the live one is kept");
    assert.not.ok(shmExists(dead));
    assert.ok(shmExists(live));
  } finally {
    holder.kill("SIGKILL");
    await within(holder.done, 10_000, "holder exit");
  }
  const after = await wshm(["gc", live, "--json"]);
  expectExit(after, 0, "gc once the holder died");
  assert.equal(JSON.parse(after.stdout).removed, [live]);
});

test("ls and gc survive foreign and corrupt files in /dev/shm, and gc keeps corrupt segments", async () => {
  const foreign = uniqueName("cli-foreign");
  const truncated = uniqueName("cli-truncated");
  const alien = uniqueName("cli-alien");
  writeFileSync(`/dev/shm${foreign}`, "not a segment at all\n".repeat(100));
  for (const name of [truncated, alien]) {
    using segment = Segment.create(name, { size: 65536 });
    const k = segment.constants;
    // A creator pid no process can have (the FFI takes an i32): it must not trip ls.
    segment.view().setUint32(k.HEADER_CREATOR_PID, 0xFFFFFFF0, true);
    if (name === alien) segment.view().setUint32(k.HEADER_VERSION, 99, true);
  }
  truncateSync(`/dev/shm${truncated}`, 8192);
  const ls = await wshm(["ls", "--json"]);
  expectExit(ls, 0, "ls with foreign and corrupt files");
  const listed = JSON.parse(ls.stdout);
  const names = listed.map((s: { name: string }) => s.name);
  assert.not.ok(names.includes(foreign), "a foreign file is not listed");
  for (const name of [truncated, alien]) {
    const entry = listed.find((s: { name: string }) => s.name === name);
    assert.is(entry?.state, "corrupt", `${name} is shown as corrupt`);
  }
  const gc = await wshm(["gc", foreign, truncated, alien, "--json"]);
  expectExit(gc, 0, "gc with foreign and corrupt files");
  const result = JSON.parse(gc.stdout);
  assert.equal(result.removed, [], "gc removes neither a foreign file nor a corrupt segment");
  assert.equal(result.kept.map((k: { name: string }) => k.name).sort(), [alien, truncated].sort());
  const inspect = await wshm(["inspect", truncated]);
  expectExit(inspect, 1, "inspect of a truncated segment");
  assert.match(inspect.stderr, /\[Corrupt\]/);
});

/**
 * The segments in /dev/shm of the demo that used `segment` (/wshm-demo-PID-...): every name with
 * its process id, so that a demo of another suite running beside this one is not counted.
 */
function demoSegments(segment: string): string[] {
  const pid = /^\/wshm-demo-(\d+)-/.exec(segment)?.[1];
  assert.ok(pid !== undefined, `a demo segment name: ${segment}`);
  return readdirSync("/dev/shm").filter((f) => f.startsWith(`wshm-demo-${pid}-`));
}

test("demo exits 0, and leaves no segment and no process behind", async () => {
  const run = await wshm(["demo", "--count", "300", "--json"], { timeoutMs: 180_000 });
  expectExit(run, 0, "demo");
  const summary = JSON.parse(run.stdout);
  assert.is(summary.ok, true);
  assert.ok(summary.clients.length === 3, "one client per runtime");
  for (const c of summary.clients) assert.ok(c.ok, `${c.runtime} client: ${c.error}`);
  assert.is(summary.requests, 900);
  assert.equal(demoSegments(summary.segment), [], "no demo segment left in /dev/shm");
  assert.equal(processesMentioning(summary.segment.slice(1)), [], "no demo process left");
});

test("demo cleans up after Ctrl-C too", async () => {
  const demo = start(["demo", "--count", "5000000"], { timeoutMs: 120_000 });
  const out = await demo.output(/clients x/, 60_000);
  const segment = /segment (\/wshm-demo-\S+)/.exec(out)![1];
  demo.kill("SIGINT");
  const run = await within(demo.done, 30_000, "demo after SIGINT");
  assert.is(
    run.signal,
    "SIGINT",
    `demo ended by SIGINT after cleaning up (exit ${run.code}):\n${run.stderr}`,
  );
  assert.match(run.stderr, /\[Interrupted\]/);
  assert.equal(demoSegments(segment), [], "no demo segment left in /dev/shm");
  assert.equal(processesMentioning(segment.slice(1)), [], "no demo process left");
});

const ESC = "\u001b[";

test("NO_COLOR turns colour off; FORCE_COLOR turns it on", async () => {
  const plain = await wshm(["bench", "--filter", "no-such-benchmark"], {
    env: { NO_COLOR: "1", FORCE_COLOR: "1" },
  });
  expectExit(plain, 0, "bench with NO_COLOR");
  assert.not.ok(plain.stdout.includes(ESC), "no escape codes");
  const coloured = await wshm(["bench", "--filter", "no-such-benchmark"], {
    env: { NO_COLOR: "", FORCE_COLOR: "1" },
  });
  expectExit(coloured, 0, "bench with FORCE_COLOR");
  assert.ok(coloured.stdout.includes(ESC), "escape codes");
});

test("bench without matching scripts says so and exits 0; --json parses", async () => {
  const run = await wshm(["bench", "--filter", "no-such-benchmark", "--json"]);
  expectExit(run, 0, "bench --json");
  const result = JSON.parse(run.stdout);
  assert.equal(result.rows, []);
  assert.match(result.message, /No benchmark scripts/);
});

test.run();
