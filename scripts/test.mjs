// Runs every uvu suite in test/ under Deno, Node and Bun, one process per file
// and runtime (runtime-independent suites under the first runtime only), each
// with a watchdog; then checks that no test left a segment
// in /dev/shm. Ends with the line "N passed, N failed[, N skipped]".
//
//   node scripts/test.mjs [--runtime deno|node|bun]... [--jobs N] [--no-build] [filter]
//
// --jobs N (default 3, or WSHM_TEST_JOBS): suite processes at once. Most
// suites spend their time waiting for the processes they start (servers,
// bridges, time-outs, kills), so on this 2-core machine three at a time take
// about half the time of one (measured: 10.4 min one at a time, 6.5 min two,
// 5.2-6.2 min three); the longest start first. The suites in EXCLUSIVE run
// afterwards, alone: their checks time each call against a bound and would
// report the other suites' load as findings. Suites that look at all of
// /dev/shm must only count their own names (see WSHM_TEST_SEGMENT_TAG).

import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tally } from "./suite_tally.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const wanted = args.flatMap((a, i) => (args[i - 1] === "--runtime" ? [a] : []));
const filter = args.find((a, i) =>
  !a.startsWith("--") && args[i - 1] !== "--runtime" && args[i - 1] !== "--jobs"
);
const runtimes = wanted.length > 0 ? wanted : ["deno", "node", "bun"];
const jobsAt = args.indexOf("--jobs");
const jobs = Math.max(1, Number(jobsAt >= 0 ? args[jobsAt + 1] : process.env.WSHM_TEST_JOBS ?? 3) || 1);
const FILE_TIMEOUT_MS = Number(process.env.WSHM_TEST_FILE_TIMEOUT_MS ?? 300_000);

if (!args.includes("--no-build")) {
  execFileSync(process.execPath, [join(root, "scripts", "build.mjs")], { cwd: root, stdio: "inherit" });
}

const files = readdirSync(join(root, "test"))
  .filter((f) => f.endsWith(".test.ts") && (!filter || f.includes(filter)))
  .sort();

// Suites that do not depend on the runtime (they drive external tools, such as
// spin and gcc for the models): run once, under the first runtime requested.
const RUNTIME_INDEPENDENT = new Set([
  "model.test.ts",
  "docs_shell.test.ts",
  "cli_pubsub.test.ts",
  "cli_bridge.test.ts",
  "package.test.ts",
  "bridge_bench.test.ts",
  "bench_targets.test.ts",
]);

// Run alone, after the others (see --jobs above). cli.test.ts too: `wshm gc`
// keeps a segment that any live process maps (/proc/PID/maps), and a suite
// beside it that lists every segment (`wshm ls`) maps each one for a moment.
const EXCLUSIVE = new Set(["fuzz.test.ts", "bridge_bench.test.ts", "iceoryx_bench.test.ts", "cli.test.ts"]);

// Seconds a suite took under one runtime on this machine (2026-12-02), only
// to start the long ones first so that the lanes end together; a suite
// not listed counts as short.
const SECONDS = {
  "bridge.test.ts": 35,
  "model.test.ts": 61,
  "aarch64.test.ts": 47,
  "package.test.ts": 26,
  "fault_injection.test.ts": 19,
  "docs_shell.test.ts": 19,
  "docs.test.ts": 15,
  "cli_tty.test.ts": 10,
  "locks_robust.test.ts": 12,
  "channel.test.ts": 8,
  "cli.test.ts": 7,
  "locks_event.test.ts": 7,
  "blackboard.test.ts": 6,
};

function command(runtime, file) {
  const bin = (name) => join(root, "node_modules", ".bin", name);
  if (runtime === "deno") return [bin("deno"), ["run", "-A", "--quiet", join("test", file)]];
  if (runtime === "bun") return [bin("bun"), ["run", join("test", file)]];
  return [process.execPath, [join("dist", "test", file.replace(/\.ts$/, ".js"))]];
}

/** Runs a command with its output captured; a watchdog kills it after FILE_TIMEOUT_MS. */
function runCaptured(cmd, argv, env = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(cmd, argv, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const watchdog = setTimeout(() => {
      output += `\n[watchdog] killed after ${FILE_TIMEOUT_MS} ms\n`;
      child.kill("SIGKILL");
    }, FILE_TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(watchdog);
      resolve({ code, signal, output, ms: Date.now() - started });
    });
  });
}

function runFile(runtime, file) {
  const [cmd, argv] = command(runtime, file);
  return runCaptured(cmd, argv, { WSHM_TEST_RUNTIME: runtime });
}

function leftoverSegments() {
  if (!existsSync("/dev/shm")) return [];
  return readdirSync("/dev/shm").filter((f) => f.startsWith("wshm-test-"));
}

// Static checks of the sources (issue 6: the Deno module must pass them), each
// counted as one test. They run on every full run; a filter skips them.
const denoBin = join(root, "node_modules", ".bin", "deno");
const checks = [
  ["deno check", denoBin, [
    "check",
    "--quiet",
    "ts/mod.ts",
    "ts/advanced.ts",
    "cli/main.ts",
    ...files.map((f) => join("test", f)),
  ]],
  ["deno lint", denoBin, ["lint", "--quiet"]],
  ["deno fmt --check", denoBin, ["fmt", "--check"]],
  ["ABI doc lists every export", process.execPath, [join("scripts", "check_abi.mjs")]],
  ["no import circle; layers import down", process.execPath, [join("scripts", "check_imports.mjs")]],
];

const before = new Set(leftoverSegments());
const tally = new Tally();
if (!filter) {
  for (const [label, command, argv] of checks) {
    const { code, output, ms } = await runCaptured(command, argv);
    const ok = code === 0;
    if (ok) tally.passed++;
    else tally.failed++;
    console.log(
      `${ok ? "ok  " : "FAIL"} check ${label.padEnd(37)} ${(ms / 1000).toFixed(1).padStart(13)}s`,
    );
    if (!ok) console.log(output.split("\n").slice(0, 60).map((l) => "     | " + l).join("\n"));
  }
}

/** Runs the (runtime, file) pairs, `lanes` at a time, in the order given. */
async function runAll(pairs, lanes) {
  let next = 0;
  const lane = async () => {
    while (next < pairs.length) {
      const [runtime, file] = pairs[next++];
      tally.add(runtime, file, await runFile(runtime, file));
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, pairs.length) }, lane));
}

const pairs = runtimes.flatMap((runtime) =>
  files
    .filter((file) => !RUNTIME_INDEPENDENT.has(file) || runtime === runtimes[0])
    .map((file) => [runtime, file])
);
const shared = pairs.filter(([, file]) => !EXCLUSIVE.has(file));
// Longest first; a stable sort keeps the runtime-major order among equals.
shared.sort((x, y) => (SECONDS[y[1]] ?? 1) - (SECONDS[x[1]] ?? 1));
await runAll(shared, jobs);
await runAll(pairs.filter(([, file]) => EXCLUSIVE.has(file)), 1);

const leaked = leftoverSegments().filter((f) => !before.has(f));
if (leaked.length > 0) {
  tally.failed += 1;
  console.log(`FAIL segments left in /dev/shm by the tests: ${leaked.join(", ")}`);
}
console.log(tally.line());
process.exitCode = tally.failed > 0 ? 1 : 0;
