// The iceoryx baseline harness (bench/iceoryx.ts, bench/c/iceoryx_pingpong.c):
// a very short run of each mode against a RouDi of its own must give numbers
// that can be right, and leave nothing behind: no RouDi, no peer, no
// iceoryx file in /dev/shm or /tmp. Without iceoryx installed (Debian:
// apt-get install iceoryx libiceoryx-binding-c-dev) every test is registered
// as skipped, with the reason, never as passed.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import {
  C_PARK,
  C_SPIN,
  ICEORYX_SPIN,
  ICEORYX_WAITSET,
  type IceoryxReport,
  iceoryxSupport,
  runIceoryxBaseline,
} from "../bench/iceoryx.ts";
import { runtime, within } from "./helpers.ts";

const test = suite(`iceoryx baseline harness (${runtime})`);
const support = iceoryxSupport();
const TRIPS = 2000;
/** Fewer for the second run, which checks the clean-up: a spin ping-pong crawls when the machine is loaded. */
const HOST_TRIPS = 500;
// Per run of one case: on this 2-CPU machine under a load of 15-18 (other builds), 2000 spin round trips
// were seen to take 15-60 s, since each spinner gets a slice only now and then.
// The outer limits below exceed the sum of the inner ones, so that a run that times out still stops its RouDi and
// removes its files; all of it fits in the runner's 300 s per file.
const RUN_TIMEOUT_MS = 45_000;
const HOST_RUN_TIMEOUT_MS = 30_000;
/** The files through which iceoryx 2.0 processes meet RouDi: none may be on the host after a run. */
const ICEORYX_FILES = [
  "/tmp/roudi",
  "/tmp/roudi.lock",
  "/tmp/iox-unique-roudi.lock",
  "/dev/shm/iceoryx_mgmt",
];

/** The command line of a live process, or undefined once it is gone. */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return undefined;
  }
}

/** Asserts that no process of the run still lives (a pid reused by an unrelated program does not count). */
function assertAllGone(report: IceoryxReport): void {
  // RouDi, and a ping and a pong per iceoryx case; the C baselines add their own.
  assert.ok(report.pids.length >= 3, `pids: ${report.pids}`);
  for (const pid of report.pids) {
    const line = commandLine(pid);
    assert.ok(
      line === undefined || !/iox-roudi|iceoryx_pingpong|bench\/results\/c\/pingpong/.test(line),
      `process ${pid} still runs: ${line}`,
    );
  }
  for (const file of ICEORYX_FILES) assert.not.ok(existsSync(file), `${file} was left behind`);
  const sockets = readdirSync("/tmp").filter((f) => {
    const match = /^wshm-bench-(?:ping|pong)-(\d+)(?:\.lock)?$/.exec(f);
    return match !== null && report.pids.includes(Number(match[1]));
  });
  assert.equal(sockets, [], "the peers' sockets and lock files in /tmp");
}

/** Medians that can be right: positive, below 10 ms, iceoryx dearer than one shared word, the WaitSet than spinning. */
function assertPlausible(report: IceoryxReport, withBaselines: boolean, trips: number): void {
  const expected = withBaselines
    ? [ICEORYX_SPIN, ICEORYX_WAITSET, C_PARK, C_SPIN]
    : [ICEORYX_SPIN, ICEORYX_WAITSET];
  assert.equal(report.rows.map((row) => row.case), expected);
  for (const row of report.rows) {
    assert.ok(
      Number.isFinite(row.median) && row.median > 0 && row.median < 10_000_000,
      `${row.case}: ${row.median}`,
    );
    assert.ok(row.p99! >= row.median, `${row.case}: p99 ${row.p99} < median ${row.median}`);
    assert.equal(row.roundTrips, trips, row.case);
    assert.equal(row.runtime, runtime);
  }
  const m = report.medians;
  // A WaitSet round trip sleeps and is woken twice (two futex calls at least); spinning makes no system call.
  assert.ok(
    m[ICEORYX_WAITSET] > m[ICEORYX_SPIN],
    `WaitSet ${m[ICEORYX_WAITSET]} ns <= spin ${m[ICEORYX_SPIN]} ns`,
  );
  assert.ok(m[ICEORYX_WAITSET] > 1000, `WaitSet ${m[ICEORYX_WAITSET]} ns: too fast for two wake-ups`);
  if (withBaselines) {
    // iceoryx's take, loan, publish and release do strictly more than storing and loading one word.
    assert.ok(m[ICEORYX_SPIN] > m[C_SPIN], `iceoryx spin ${m[ICEORYX_SPIN]} ns <= C spin ${m[C_SPIN]} ns`);
    const spin = report.rows.find((row) => row.case === ICEORYX_SPIN)!;
    assert.equal(spin.baseline, C_SPIN);
    assert.ok(typeof spin.ratio === "number" && spin.ratio > 0 && spin.ratio < 1, `ratio ${spin.ratio}`);
  }
}

if (!support.available) {
  test.skip(`iceoryx not installed: ${support.reason}`, () => {});
} else {
  test(`a short run (${TRIPS} round trips a case, RouDi: ${support.isolation}) measures both modes and the C baselines, and leaves nothing`, async () => {
    const report = await within(
      runIceoryxBaseline({ iterations: TRIPS, spinIterations: TRIPS, rounds: 1, timeoutMs: RUN_TIMEOUT_MS }),
      4 * RUN_TIMEOUT_MS + 15_000,
      "the iceoryx benchmark",
    );
    assert.equal(report.isolation, support.isolation);
    assertPlausible(report, true, TRIPS);
    assertAllGone(report);
    // In a namespace nothing was ever on the host; on the host, this run removed what its RouDi left.
    if (report.isolation === "namespace") assert.equal(report.removed, []);
  });

  test("with RouDi in the host's /tmp and /dev/shm, the files it creates are removed", async () => {
    const report = await within(
      runIceoryxBaseline({
        iterations: HOST_TRIPS,
        spinIterations: HOST_TRIPS,
        rounds: 1,
        baselines: false,
        isolation: "host",
        timeoutMs: HOST_RUN_TIMEOUT_MS,
      }),
      2 * HOST_RUN_TIMEOUT_MS + 15_000,
      "the iceoryx benchmark (host)",
    );
    assert.equal(report.isolation, "host");
    assertPlausible(report, false, HOST_TRIPS);
    assertAllGone(report);
  });

  test("a step that overruns its limit is an ICEORYX_TIMEOUT, and what it started is stopped", async () => {
    // 1 ms is less than RouDi takes to come up: the start times out, and the harness stops RouDi again.
    const pidsBefore = new Set(readdirSync("/proc").filter((f) => /^\d+$/.test(f)));
    try {
      await within(runIceoryxBaseline({ rounds: 1, timeoutMs: 1 }), 60_000, "the timed-out run");
      assert.unreachable("a 1 ms limit was met");
    } catch (error) {
      assert.equal((error as { code?: string }).code, "ICEORYX_TIMEOUT", String(error));
    }
    const roudis = readdirSync("/proc").filter((f) =>
      /^\d+$/.test(f) && !pidsBefore.has(f) && /iox-roudi|iceoryx_pingpong/.test(commandLine(Number(f)) ?? "")
    );
    assert.equal(roudis, [], "a RouDi or peer of the timed-out run still runs");
    for (const file of ICEORYX_FILES) assert.not.ok(existsSync(file), `${file} was left behind`);
  });

  test("in the host's /tmp, another RouDi's lock file makes the run refuse (ICEORYX_ROUDI_BUSY)", async () => {
    const lock = "/tmp/roudi.lock";
    assert.not.ok(existsSync(lock), "a RouDi runs on this machine already");
    writeFileSync(lock, "");
    try {
      await runIceoryxBaseline({ rounds: 1, isolation: "host" });
      assert.unreachable("started next to another RouDi's files");
    } catch (error) {
      assert.equal((error as { code?: string }).code, "ICEORYX_ROUDI_BUSY", String(error));
      assert.match(String(error), lock);
    } finally {
      rmSync(lock, { force: true });
    }
  });

  test("bad options are refused with a code", async () => {
    for (
      const [options, code] of [
        [{ iterations: 0 }, "ICEORYX_BAD_OPTION"],
        [{ rounds: 1.5 }, "ICEORYX_BAD_OPTION"],
        [{ isolation: "container" }, "ICEORYX_BAD_OPTION"],
      ] as const
    ) {
      try {
        // deno-lint-ignore no-explicit-any
        await runIceoryxBaseline(options as any);
        assert.unreachable(`accepted ${JSON.stringify(options)}`);
      } catch (error) {
        assert.equal((error as { code?: string }).code, code, String(error));
      }
    }
  });
}

test.run();
