// The iceoryx baseline of issue 9: a 64 B publish/subscribe ping-pong between
// two processes through iceoryx (classic, 2.0 from Debian: RouDi is the
// iox-roudi daemon, the peers use its C binding; bench/c/iceoryx_pingpong.c),
// busy-waiting and with iceoryx's WaitSet, interleaved round by round with
// the C futex and C spin ping-pongs of bench/c/pingpong.c, so that the ratios
// come from one run under one load.
//
// This module starts its own RouDi, runs every case, then stops RouDi and the
// peers. iceoryx 2.0 has no domain id: every RouDi and every client meet at
// fixed names (/tmp/roudi, /tmp/roudi.lock, /dev/shm/iceoryx_mgmt,
// /dev/shm/<group>). So that this RouDi never meets another one, it runs by
// default in a private mount namespace with its own tmpfs on /tmp and
// /dev/shm (`unshare --mount`; the peers join it with `nsenter`): nothing it
// creates is visible outside, and everything goes when its last process
// exits. Where namespaces are not allowed (no CAP_SYS_ADMIN) it runs in the
// host's /tmp and /dev/shm ("host"): it refuses to start when another RouDi's
// files are there, and removes the files its RouDi and peers created.
//
//   deno run -A bench/iceoryx.ts [--rounds 5] [--quick] [--json] [--isolation namespace|host]
//   node dist/bench/iceoryx.js ...        bun bench/iceoryx.ts ...
//
// --json prints one line per case ({"bench":"iceoryx","runtime","case","unit":"ns","median","p99",
// "rounds","baseline",...}); otherwise a table. Without iceoryx installed it says why and exits 0.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { atExit, flag, loadCBuild, median, printRows, progress, ratio, type Row, runtime } from "./lib.ts";

const cBuild = await loadCBuild();

/** The case names (rows' `case`). */
export const ICEORYX_SPIN = "iceoryx 64 B pub/sub round trip, spin";
export const ICEORYX_WAITSET = "iceoryx 64 B pub/sub round trip, WaitSet";
export const C_PARK = "baseline: C futex ping-pong, park";
export const C_SPIN = "baseline: C spin ping-pong";

/** The Debian packages this benchmark needs (for CI: `apt-get install -y ...`). */
export const ICEORYX_PACKAGES: string[] = cBuild.ICEORYX_PACKAGES;

/** An error of this harness, with a code saying which step failed. */
export class IceoryxBenchError extends Error {
  constructor(
    readonly code:
      | "ICEORYX_NOT_INSTALLED"
      | "ICEORYX_NO_ISOLATION"
      | "ICEORYX_ROUDI_BUSY"
      | "ICEORYX_ROUDI_FAILED"
      | "ICEORYX_PEER_FAILED"
      | "ICEORYX_TIMEOUT"
      | "ICEORYX_BAD_OPTION",
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = "IceoryxBenchError";
  }
}

/** "namespace": RouDi in a private mount namespace (the default where allowed); "host": the host's /tmp and /dev/shm. */
export type Isolation = "namespace" | "host";

/** Whether iceoryx can be benchmarked here, and how RouDi would be isolated. */
export type IceoryxSupport = { available: true; isolation: Isolation } | { available: false; reason: string };

/** Checks that RouDi and the C binding are installed, and whether a private mount namespace can be made. */
export function iceoryxSupport(): IceoryxSupport {
  const flags = cBuild.iceoryxFlags();
  if (flags.missing !== undefined) return { available: false, reason: flags.missing };
  const roudi = spawnSync("iox-roudi", ["--version"], { stdio: "ignore", timeout: 10_000 });
  if (roudi.error || roudi.status !== 0) {
    return {
      available: false,
      reason: `iox-roudi (RouDi) is not on PATH (apt-get install ${ICEORYX_PACKAGES.join(" ")})`,
    };
  }
  return { available: true, isolation: namespaceAllowed() ? "namespace" : "host" };
}

/** A private mount namespace with tmpfs on /dev/shm and /tmp, and nsenter to join it. */
function namespaceAllowed(): boolean {
  const probe = spawnSync(
    "unshare",
    ["--mount", "--propagation", "private", "--", "sh", "-c", MOUNT_PRIVATE + " && nsenter --version"],
    { stdio: "ignore", timeout: 10_000 },
  );
  return !probe.error && probe.status === 0;
}

// Fresh tmpfs on /dev/shm (RouDi's segments: about 64 MiB of management data,
// reserved lazily) and on /tmp (its socket and lock files, the clients' sockets).
const MOUNT_PRIVATE = "mount -t tmpfs -o size=256m,mode=1777 wshm-iceoryx /dev/shm && " +
  "mount -t tmpfs -o size=16m,mode=1777 wshm-iceoryx /tmp";

// RouDi's memory: one pool of 64 chunks of up to 128 B (a 64 B sample fits;
// at most a few are in use at once), instead of the built-in pools of
// hundreds of MiB.
const ROUDI_CONFIG = `[general]
version = 1

[[segment]]

[[segment.mempool]]
size = 128
count = 64
`;

/** The fixed names through which iceoryx 2.0 processes find RouDi (and a second RouDi finds the first). */
const ROUDI_FILES = ["/tmp/roudi", "/tmp/roudi.lock", "/tmp/iox-unique-roudi.lock", "/dev/shm/iceoryx_mgmt"];

export interface IceoryxOptions {
  /** Round trips per run of the WaitSet case and the C futex ping-pong (default 20000). */
  iterations?: number;
  /** Round trips per run of the spin cases, iceoryx's and C's (default 100000). */
  spinIterations?: number;
  /** Interleaved rounds; each case runs once per round (default 5). */
  rounds?: number;
  /** Run the C ping-pongs too (default true). */
  baselines?: boolean;
  /** Where RouDi runs (default: a namespace where allowed, else the host). */
  isolation?: Isolation;
  /** Longest one run of one case may take, and RouDi to start or stop (default 120000 ms). */
  timeoutMs?: number;
  /** Called with the fraction done before each run. */
  onProgress?: (fraction: number) => void;
}

export interface IceoryxReport {
  /** One row per case: median = the median of the rounds' medians, p99 = the median of their p99s. */
  rows: Row[];
  /** The median round trip of each case, in ns, by case name. */
  medians: Record<string, number>;
  isolation: Isolation;
  /** Every process this run started (RouDi, the peers, the C programs), all of them gone when it returns. */
  pids: number[];
  /** In "host" isolation: the files iceoryx left that this run removed. */
  removed: string[];
}

interface Started {
  child: ChildProcess;
  /** Resolves with the exit code (or -1 for a signal) once the process exits. */
  exited: Promise<number>;
  output: () => string;
  /** SIGKILL if it still runs. */
  kill: () => void;
}

/** Spawns a process with its output captured (kept whole: a few lines), and kills it if this process exits first. */
function start(command: string, args: string[], pids: number[]): Started {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let done = false;
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => (output = (output + chunk).slice(-65536)));
  child.stderr!.on("data", (chunk: string) => (output = (output + chunk).slice(-65536)));
  const forget = atExit(() => {
    if (!done) child.kill("SIGKILL");
  });
  if (child.pid !== undefined) pids.push(child.pid);
  const exited = new Promise<number>((resolve) => {
    child.on("error", (error) => {
      output += `\n${error.message}`;
      done = true;
      forget();
      resolve(-1);
    });
    // "close", not "exit": the output is complete once both pipes are closed.
    child.on("close", (code) => {
      done = true;
      forget();
      resolve(code ?? -1);
    });
  });
  return { child, exited, output: () => output, kill: () => forget() };
}

/** Resolves with `promise`'s value, or rejects with ICEORYX_TIMEOUT after `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new IceoryxBenchError("ICEORYX_TIMEOUT", `${what} took over ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Roudi {
  /** The command prefix that runs a program where this RouDi can be reached. */
  prefix: string[];
  stop: () => Promise<void>;
  running: () => boolean;
  output: () => string;
}

/** Starts RouDi and waits until it is ready for clients. */
async function startRoudi(
  binary: string,
  isolation: Isolation,
  timeoutMs: number,
  pids: number[],
  removed: string[],
): Promise<Roudi> {
  // RouDi's own watchdog (SIGALRM, see the roudi role of iceoryx_pingpong.c): long enough for every run, and no more.
  const lifetimeSeconds = String(Math.ceil(timeoutMs / 1000) * 20 + 60);
  let roudi: Started;
  let configDir: string | undefined;
  const shmBefore = new Set(existsSync("/dev/shm") ? readdirSync("/dev/shm") : []);
  if (isolation === "namespace") {
    if (binary.startsWith("/tmp/")) {
      throw new IceoryxBenchError(
        "ICEORYX_BAD_OPTION",
        `the benchmark binary ${binary} is under /tmp, which the private namespace hides`,
      );
    }
    const script = `${MOUNT_PRIVATE} && printf '%s' "$1" > /tmp/roudi_config.toml && ` +
      `exec "$2" roudi "$3" /tmp/roudi_config.toml`;
    roudi = start(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        script,
        "sh",
        ROUDI_CONFIG,
        binary,
        lifetimeSeconds,
      ],
      pids,
    );
  } else {
    const busy = ROUDI_FILES.filter((file) => existsSync(file));
    if (busy.length > 0) {
      throw new IceoryxBenchError(
        "ICEORYX_ROUDI_BUSY",
        `another RouDi seems to run here (${busy.join(", ")} exist${busy.length === 1 ? "s" : ""}); ` +
          `it would serve this benchmark's peers. Stop it (or remove these files if none runs)`,
      );
    }
    configDir = mkdtempSync(join(tmpdir(), "wshm-iceoryx-"));
    writeFileSync(join(configDir, "roudi_config.toml"), ROUDI_CONFIG);
    roudi = start(binary, ["roudi", lifetimeSeconds, join(configDir, "roudi_config.toml")], pids);
  }
  const pid = roudi.child.pid;
  let ready = false;
  const cleanUpHost = () => {
    if (configDir !== undefined) rmSync(configDir, { recursive: true, force: true });
    // Only after our RouDi came up do the fixed names belong to this run (a RouDi that found
    // another one's lock exits without touching its files).
    if (isolation !== "host" || !ready) return;
    const ours = [
      ...ROUDI_FILES,
      ...readdirSync("/dev/shm").filter((f) => !shmBefore.has(f)).map((f) => `/dev/shm/${f}`),
      // Each client's socket and lock file (a killed peer leaves them): /tmp/wshm-bench-ping-PID[.lock].
      ...readdirSync("/tmp").filter((f) => {
        const match = /^wshm-bench-(?:ping|pong)-(\d+)(?:\.lock)?$/.exec(f);
        return match !== null && pids.includes(Number(match[1]));
      }).map((f) => `/tmp/${f}`),
    ];
    for (const file of ours) {
      if (existsSync(file)) {
        rmSync(file, { force: true });
        removed.push(file);
      }
    }
  };
  // RouDi comes up (or goes) within a second or two here, even under load; a hang should not cost a whole run's limit.
  const roudiTimeoutMs = Math.min(timeoutMs, 20_000);
  const stop = async () => {
    if (roudi.child.exitCode === null && roudi.child.signalCode === null) roudi.child.kill("SIGTERM");
    try {
      await within(roudi.exited, roudiTimeoutMs, "RouDi's shutdown (SIGTERM)");
    } catch {
      roudi.kill();
      await within(roudi.exited, 10_000, "RouDi's end (SIGKILL)");
    } finally {
      cleanUpHost();
    }
  };
  try {
    await within(
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (roudi.output().includes("RouDi is ready for clients")) {
            ready = true;
            resolve();
          }
        };
        roudi.child.stdout!.on("data", check);
        roudi.exited.then((code) =>
          reject(new IceoryxBenchError("ICEORYX_ROUDI_FAILED", `RouDi exited (${code}): ${roudi.output()}`))
        );
      }),
      roudiTimeoutMs,
      "RouDi's start",
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const prefix = isolation === "namespace" ? ["nsenter", "--target", String(pid), "--mount", "--"] : [];
  const running = () => roudi.child.exitCode === null && roudi.child.signalCode === null;
  return { prefix, stop, running, output: roudi.output };
}

interface RunResult {
  median: number;
  p99: number;
  /** iceoryx only: a peer did not leave iceoryx within SHUTDOWN_GRACE_MS after the last trip and was killed. */
  stuckShutdown?: boolean;
  /** iceoryx only: WaitSet waits of either peer that hit their 1 s timeout with the chunk already there. */
  lostWakeups?: number;
}

/** How long the peers may take to leave iceoryx once ping has its result (normally milliseconds). */
const SHUTDOWN_GRACE_MS = 5_000;

let runSerial = 0;

/** Runs one ping-pong of `iterations` trips in `mode`: pong first, then ping, which measures. */
async function iceoryxRun(
  binary: string,
  roudi: Roudi,
  mode: "spin" | "waitset",
  iterations: number,
  timeoutMs: number,
  pids: number[],
): Promise<RunResult> {
  const [command, ...prefix] = [...roudi.prefix, binary];
  // A run number of its own: no port of an earlier run that RouDi has not removed yet can pass for the peer.
  const run = String(++runSerial);
  const peer = (role: string) => start(command, [...prefix, role, String(iterations), mode, run], pids);
  const pong = peer("pong");
  const ping = peer("ping");
  const failure = (message: string, code: IceoryxBenchError["code"] = "ICEORYX_PEER_FAILED") =>
    new IceoryxBenchError(
      code,
      `${message}\nping: ${ping.output().slice(-2000)}\npong: ${pong.output().slice(-2000)}\n` +
        `RouDi: ${roudi.running() ? "running" : "gone"}: ${roudi.output().slice(-2000)}`,
    );
  const result = () => ping.output().split("\n").find((l) => l.startsWith('{"bench"'));
  try {
    // Ping prints its result after the last trip and before it leaves iceoryx (close its ports, tell RouDi).
    await within(
      new Promise<void>((resolve) => {
        const check = () => {
          if (result() !== undefined) resolve();
        };
        ping.child.stdout!.on("data", check);
        ping.exited.then(() => resolve());
        check();
      }),
      timeoutMs,
      `the iceoryx ${mode} ping-pong (${iterations} round trips)`,
    ).catch((error) => {
      throw failure(error.message, error.code);
    });
    // What is left is leaving iceoryx, which was seen to hang under a load of 15: RouDi answered a peer's
    // PREPARE_APP_TERMINATION with a message of another kind ("Got wrong response from IPC channel"), had
    // forgotten the peer ("Received Keepalive from unknown process") and the peer never exited. A peer that
    // does not end within the grace period is killed and counted in the row (stuckShutdowns); the
    // measurement stands: ping had checked every echo and printed its result.
    const killedPeers: string[] = [];
    const leave = (peer: Started, role: string) =>
      within(peer.exited, SHUTDOWN_GRACE_MS, `${role}'s shutdown`).catch(() => {
        killedPeers.push(role);
        peer.kill();
        return peer.exited;
      });
    const [pingCode, pongCode] = await Promise.all([leave(ping, "ping"), leave(pong, "pong")]);
    if (
      (pingCode !== 0 && !killedPeers.includes("ping")) || (pongCode !== 0 && !killedPeers.includes("pong"))
    ) {
      throw failure(`iceoryx ${mode} ping-pong: ping exited ${pingCode}, pong ${pongCode}`);
    }
    const line = result();
    if (line === undefined) throw failure("ping printed no result");
    const lostWakeups = [ping, pong].reduce((sum, peer) => {
      const counted = /^\{"lost_wakeups":(\d+)\}$/m.exec(peer.output());
      return sum + (counted ? Number(counted[1]) : 0);
    }, 0);
    return { ...JSON.parse(line), stuckShutdown: killedPeers.length > 0, lostWakeups };
  } finally {
    ping.kill();
    pong.kill();
    await Promise.all([ping.exited, pong.exited]);
  }
}

/**
 * Builds the C programs, starts a RouDi of its own, runs the iceoryx spin and
 * WaitSet ping-pongs and (unless `baselines: false`) the C futex and spin
 * ping-pongs, `rounds` times interleaved, stops RouDi and resolves with one
 * row per case. Rejects with an IceoryxBenchError (ICEORYX_NOT_INSTALLED
 * without iceoryx) after stopping whatever it started.
 */
export async function runIceoryxBaseline(options: IceoryxOptions = {}): Promise<IceoryxReport> {
  const iterations = options.iterations ?? 20_000;
  const spinIterations = options.spinIterations ?? 100_000;
  const rounds = options.rounds ?? 5;
  const timeoutMs = options.timeoutMs ?? 120_000;
  for (const [name, value] of Object.entries({ iterations, spinIterations, rounds, timeoutMs })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new IceoryxBenchError("ICEORYX_BAD_OPTION", `${name} must be a positive integer, not ${value}`);
    }
  }
  const support = iceoryxSupport();
  if (!support.available) throw new IceoryxBenchError("ICEORYX_NOT_INSTALLED", support.reason);
  const isolation = options.isolation ?? support.isolation;
  if (isolation !== "namespace" && isolation !== "host") {
    throw new IceoryxBenchError(
      "ICEORYX_BAD_OPTION",
      `isolation must be namespace or host, not ${isolation}`,
    );
  }
  if (isolation === "namespace" && support.isolation !== "namespace") {
    throw new IceoryxBenchError(
      "ICEORYX_NO_ISOLATION",
      "a private mount namespace cannot be made here (unshare --mount needs CAP_SYS_ADMIN); use isolation host",
    );
  }
  const programs = cBuild.buildC() as Record<string, string>;
  let binary = programs.iceoryx_pingpong;
  // The private namespace mounts a tmpfs over /tmp: a clone under /tmp (as CI's may be)
  // runs a copy of the program kept outside it, in this user's cache.
  if (isolation === "namespace" && binary.startsWith("/tmp/")) {
    const dir = join(homedir(), ".cache", "wshm-bench");
    mkdirSync(dir, { recursive: true });
    const copy = join(dir, "iceoryx_pingpong");
    copyFileSync(binary, copy);
    chmodSync(copy, 0o755);
    binary = copy;
  }
  const pids: number[] = [];
  const removed: string[] = [];

  const cases: Array<{ name: string; baseline: true | string; run: () => Promise<RunResult> }> = [];
  const roudi = await startRoudi(binary, isolation, timeoutMs, pids, removed);
  try {
    cases.push(
      {
        name: ICEORYX_SPIN,
        baseline: C_SPIN,
        run: () => iceoryxRun(binary, roudi, "spin", spinIterations, timeoutMs, pids),
      },
      {
        name: ICEORYX_WAITSET,
        baseline: C_PARK,
        run: () => iceoryxRun(binary, roudi, "waitset", iterations, timeoutMs, pids),
      },
    );
    if (options.baselines !== false) {
      const runC = (args: Array<string | number>) => cBuild.runC(programs.pingpong, args, { timeoutMs });
      cases.push(
        { name: C_PARK, baseline: true, run: () => runC([iterations, "park"]) },
        { name: C_SPIN, baseline: true, run: () => runC([spinIterations, "spin"]) },
      );
    }
    const results = new Map<string, RunResult[]>(cases.map((c) => [c.name, []]));
    for (let r = 0; r < rounds; r++) {
      for (const [i, c] of cases.entries()) {
        options.onProgress?.((r * cases.length + i) / (rounds * cases.length));
        results.get(c.name)!.push(await c.run());
      }
    }
    const rows: Row[] = cases.map((c) => {
      const runs = results.get(c.name)!;
      return {
        bench: "iceoryx",
        runtime,
        case: c.name,
        unit: "ns",
        baseline: c.baseline,
        measuredBy: "c",
        median: median(runs.map((x) => x.median)),
        p99: median(runs.map((x) => x.p99)),
        rounds: runs.map((x) => x.median),
        ...(c.name === ICEORYX_SPIN || c.name === ICEORYX_WAITSET
          ? {
            isolation,
            stuckShutdowns: runs.filter((x) => x.stuckShutdown).length,
            lostWakeups: runs.reduce((sum, x) => sum + (x.lostWakeups ?? 0), 0),
          }
          : {}),
        roundTrips: c.name === ICEORYX_WAITSET || c.name === C_PARK ? iterations : spinIterations,
      };
    });
    const byName = new Map(rows.map((row) => [row.case, row]));
    for (const row of rows) {
      if (typeof row.baseline === "string" && byName.has(row.baseline)) {
        row.ratio = Number(ratio(row, byName.get(row.baseline)!).toFixed(4));
      }
    }
    return {
      rows,
      medians: Object.fromEntries(rows.map((row) => [row.case, row.median])),
      isolation,
      pids,
      removed,
    };
  } finally {
    await roudi.stop();
  }
}

// deno-lint-ignore no-explicit-any
const meta = import.meta as any;
const isMain = meta.main ??
  (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]);
if (isMain) {
  const json = flag("json") !== undefined;
  const quick = flag("quick") !== undefined;
  const support = iceoryxSupport();
  if (!support.available) {
    console.error(`iceoryx benchmark skipped: ${support.reason}`);
    process.exit(0);
  }
  const scale = quick ? 0.2 : 1;
  const report = await runIceoryxBaseline({
    rounds: Number(flag("rounds", quick ? "2" : "5")),
    iterations: Math.round(Number(flag("iterations", "20000")) * scale),
    spinIterations: Math.round(Number(flag("spin-iterations", "100000")) * scale),
    isolation: flag("isolation") as Isolation | undefined,
    onProgress: (fraction) => progress(json, fraction),
  });
  printRows(report.rows, json);
  if (!json) {
    for (const row of report.rows) {
      if (row.lostWakeups) {
        console.log(
          `  ${row.case}: ${row.lostWakeups} WaitSet wait(s) slept their 1 s out with the chunk there`,
        );
      }
      if (row.stuckShutdowns) {
        console.log(
          `  ${row.case}: a peer hung leaving iceoryx in ${row.stuckShutdowns} run(s) and was killed`,
        );
      }
    }
    console.log(
      `  (RouDi isolation: ${report.isolation}; median of ${
        (report.rows[0].rounds as number[]).length
      } interleaved rounds; ` +
        `pinning: ${process.env.WSHM_BENCH_PIN || "none"})`,
    );
  }
  process.exit(0);
}
