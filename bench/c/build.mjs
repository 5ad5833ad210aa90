// Builds the C baselines (bench/c/*.c) with gcc -O2 at benchmark time and runs
// them; other benchmark scripts import buildC / runC / cBaselines from here so
// that every comparison runs the C side in the same benchmark run.
//
//   node bench/c/build.mjs                 build into bench/results/c/ (gitignored)
//   node bench/c/build.mjs --run [--runs 5] [--iterations 20000] [--spin 20000] [--json]
//
// --run runs every baseline --runs times, interleaved (a b c d a b c d ...),
// and prints for each the median of the runs' medians (ns per round trip).
// WSHM_BENCH_PIN=none|same|split in the environment pins the two processes
// (see common.h); by default the scheduler places them.

import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");

/** Where the binaries go unless told otherwise (bench/results/ is gitignored). */
export const DEFAULT_OUT_DIR = join(root, "bench", "results", "c");

let warnedIceoryx = false;

/** The Debian packages that provide what iceoryx_*.c needs (RouDi and the C binding). */
export const ICEORYX_PACKAGES = ["iceoryx", "libiceoryx-binding-c-dev"];

/**
 * The gcc flags for iceoryx's C binding: pkg-config's if it knows the
 * binding, else the Debian layout (headers in /usr/include/iceoryx/vX.Y.Z/,
 * which no .pc file describes; the library on the default path). Returns
 * { cflags, libs } or { missing: reason } when the binding is not installed.
 */
export function iceoryxFlags() {
  try {
    const cflags = execFileSync("pkg-config", ["--cflags", "iceoryx_binding_c"], { stdio: "pipe" });
    const libs = execFileSync("pkg-config", ["--libs", "iceoryx_binding_c"], { stdio: "pipe" });
    return {
      cflags: String(cflags).trim().split(/\s+/).filter(Boolean),
      libs: String(libs).trim().split(/\s+/),
    };
  } catch { /* no pkg-config, or no .pc file for the binding: look where Debian puts it */ }
  const base = "/usr/include/iceoryx";
  const versions = existsSync(base)
    ? readdirSync(base).filter((v) => existsSync(join(base, v, "iceoryx_binding_c", "runtime.h"))).sort()
    : [];
  if (versions.length === 0) {
    return {
      missing: `iceoryx's C binding is not installed (no ${base}/v*/iceoryx_binding_c/runtime.h; ` +
        `apt-get install ${ICEORYX_PACKAGES.join(" ")})`,
    };
  }
  return { cflags: [`-I${join(base, versions[versions.length - 1])}`], libs: ["-liceoryx_binding_c"] };
}

/**
 * Compiles every bench/c/*.c with gcc -O2 into `outDir`; returns the path of
 * each program by name (e.g. { pingpong: ".../pingpong", sem_handoff: ... }).
 * Each binary is written under a temporary name and renamed into place, so
 * concurrent builds never run a half-written file. iceoryx_*.c need
 * iceoryx's C binding: without it they are left out (their names missing
 * from the result) with a message on stderr, once per process.
 */
export function buildC(outDir = DEFAULT_OUT_DIR) {
  mkdirSync(outDir, { recursive: true });
  const programs = {};
  for (const file of readdirSync(here).filter((f) => f.endsWith(".c")).sort()) {
    const name = file.slice(0, -2);
    const target = join(outDir, name);
    const temporary = `${target}.${process.pid}.tmp`;
    let extra = { cflags: [], libs: [] };
    if (name.startsWith("iceoryx_")) {
      extra = iceoryxFlags();
      if (extra.missing) {
        if (!warnedIceoryx) console.error(`bench/c: skipping ${file}: ${extra.missing}`);
        warnedIceoryx = true;
        continue;
      }
    }
    execFileSync(
      "gcc",
      [
        "-O2",
        "-std=gnu11",
        "-Wall",
        "-Wextra",
        ...extra.cflags,
        "-o",
        temporary,
        join(here, file),
        ...extra.libs,
        "-lrt",
      ],
      {
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    renameSync(temporary, target);
    programs[name] = target;
  }
  return programs;
}

/**
 * Runs one built program with `args` and resolves with the JSON row it
 * prints: { bench, runtime: "c", case, unit: "ns", median, p50, p99, min,
 * mean, ops, total_ns }.
 */
export function runC(path, args, { timeoutMs = 300_000, env = process.env } = {}) {
  return new Promise((resolve, reject) => {
    execFile(path, args.map(String), { timeout: timeoutMs, env }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${path} ${args.join(" ")} failed: ${error.message}\n${stderr}`));
      const line = stdout.split("\n").find((l) => l.startsWith("{"));
      if (!line) return reject(new Error(`${path} ${args.join(" ")} printed no result:\n${stdout}${stderr}`));
      resolve(JSON.parse(line));
    });
  });
}

/**
 * The baselines of issues 3 and 4: [program, args] for each. With both
 * processes pinned to one CPU (pin "same") the spin ping-pong is left out: a
 * spinner then burns its whole time slice before its peer can answer.
 */
export function baselineCases({
  iterations = 20000,
  spinIterations = iterations * 10,
  spinLimit = 20000,
  pin = process.env.WSHM_BENCH_PIN,
} = {}) {
  return [
    ["pingpong", [iterations, "park"]],
    ...(pin === "same" ? [] : [["pingpong", [spinIterations, "spin"]]]),
    ["sem_handoff", [iterations, "spin-then-park", spinLimit]],
    ["sem_handoff", [iterations, "park-only"]],
  ];
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Builds, then runs every baseline `runs` times interleaved; resolves with one
 * row per case: the first run's fields, with median = the median of the
 * runs' medians, p99 = the median of their p99s, and rounds = each run's median.
 */
export async function cBaselines({ runs = 5, outDir, env = process.env, ...sizes } = {}) {
  const programs = buildC(outDir);
  const cases = baselineCases({ pin: env.WSHM_BENCH_PIN, ...sizes });
  const rows = cases.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (const [i, [program, args]] of cases.entries()) {
      rows[i].push(await runC(programs[program], args, { env }));
    }
  }
  return rows.map((results) => ({
    ...results[0],
    median: median(results.map((row) => row.median)),
    p99: median(results.map((row) => row.p99)),
    rounds: results.map((row) => row.median),
  }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
  };
  if (!args.includes("--run")) {
    for (const [name, path] of Object.entries(buildC())) console.log(`${name.padEnd(17)} ${path}`);
  } else {
    const runs = option("runs", 5);
    const rows = await cBaselines({
      runs,
      iterations: option("iterations", 20000),
      spinLimit: option("spin", 20000),
    });
    for (const row of rows) {
      if (args.includes("--json")) console.log(JSON.stringify(row));
      else {
        console.log(
          `${row.case.padEnd(58)} median ${(row.median / 1000).toFixed(2).padStart(7)} µs  p99 ` +
            `${(row.p99 / 1000).toFixed(2).padStart(7)} µs   runs: ${
              row.rounds.map((v) => (v / 1000).toFixed(2)).join(" ")
            }`,
        );
      }
    }
    console.log(`(median of ${runs} interleaved runs; pinning: ${process.env.WSHM_BENCH_PIN || "none"})`);
  }
}
