// Builds everything a run needs: the core (release and debug), then the
// TypeScript host, tests and benchmarks into dist/ for Node (which cannot run
// .ts), with the core copied beside them, and the CLI bundled into
// dist/cli/wshm.js for installed packages (Deno runs no TypeScript under
// node_modules, and an installed package must never write into itself).
//
//   node scripts/build.mjs              everything
//   node scripts/build.mjs wasm|ts      only the core, or only the TypeScript (and the bundle)
//   node scripts/build.mjs --if-stale   nothing when dist/ was built from the sources as they are
//                                       (npm's `prepare`); under `npx`/`npm exec` a stale build is
//                                       reported, not rebuilt, so that no process running from
//                                       dist/ sees it rewritten in place
//
// Release target without binaryen's `converge`: its extra rounds ended one
// byte larger than a single -O3 round on this core (40,798 against 40,797
// bytes, asc 0.28.20), which is what "Last converge was suboptimal." said.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { writeDerived } from "./core_describe.mjs";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: "inherit" });

/** What the build reads; a change to any of it makes dist/ stale. */
const INPUTS = [
  "wasm",
  "ts",
  "cli",
  "test",
  "bench",
  "types",
  "asconfig.json",
  "tsconfig.json",
  "package.json",
  "package-lock.json",
  "scripts/build.mjs",
  "scripts/core_describe.mjs",
];
/** Written from the inputs by the build itself: not an input. */
const DERIVED = new Set(["ts/core_abi.ts"]);
/** The build's outputs; all must exist for a build to count as current. */
const OUTPUTS = [
  "build/core.wasm",
  "dist/build/core.wasm",
  "dist/ts/mod.js",
  "dist/cli/permissions.js",
  "dist/cli/wshm.js",
];
const STAMP = join(root, "dist", ".build-inputs");

/** The files under `path` (a file or a folder), relative to the root. */
function files(path) {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (statSync(full).isFile()) return [path];
  return readdirSync(full, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath ?? e.path, e.name)));
}

/** A hash of every input file's path and bytes. */
function inputsHash() {
  const hash = createHash("sha256");
  const all = INPUTS.flatMap(files).filter((p) => !DERIVED.has(p) && !p.startsWith("bench/results/")).sort();
  for (const path of all) hash.update(path).update("\0").update(readFileSync(join(root, path))).update("\0");
  return hash.digest("hex");
}

/**
 * One more binaryen round over the release core, inlining larger functions
 * than asc's -O3 does (asc has no option for it): V8 does not inline one wasm
 * function into another, so every small protocol step (a semaphore post, a
 * role check, the channel's geometry check) was a call of its own, about 35
 * per classic round trip. Measured with the exchange in one thread
 * (bench/channel.ts, six interleaved runs per runtime, medians): Deno 192 ->
 * 173 ns, Node 194 -> 179, Bun 188 -> 184. The text form is written again
 * from the result, as core_describe.mjs reads the signatures from it.
 */
function inlineMore(wasm, wat) {
  const features = ["threads", "bulk-memory", "sign-ext", "mutable-globals", "nontrapping-float-to-int"];
  run(bin("wasm-opt"), [
    wasm,
    ...features.map((f) => `--enable-${f}`),
    "-O3",
    "--flexible-inline-max-function-size",
    "400",
    "--one-caller-inline-max-function-size",
    "400",
    "--inline-functions-with-loops",
    "-o",
    wasm,
  ]);
  run(bin("wasm-dis"), [wasm, "-o", wat]);
}

const argv = process.argv.slice(2);
if (argv.includes("--if-stale")) {
  const current = existsSync(STAMP) && readFileSync(STAMP, "utf8") === inputsHash() &&
    OUTPUTS.every((p) => existsSync(join(root, p)));
  if (current) process.exit(0);
  if (process.env.npm_command === "exec") {
    console.error(
      "wshm: the build in dist/ is older than the sources; run `npm run build` (not rebuilt under npx)",
    );
    process.exit(0);
  }
}

const only = argv.find((a) => !a.startsWith("--"));
if (only !== "ts") {
  run(bin("asc"), ["--config", "asconfig.json", "--target", "release"]);
  inlineMore("build/core.wasm", "build/core.wat");
  run(bin("asc"), ["--config", "asconfig.json", "--target", "debug"]);
  // The typed boundary (ts/core_abi.ts) and the constants as JSON, derived from the module just built.
  writeDerived();
}
if (only !== "wasm") {
  run(bin("tsc"), ["-p", "tsconfig.json"]);
  mkdirSync(join(root, "dist", "build"), { recursive: true });
  copyFileSync(join(root, "build", "core.wasm"), join(root, "dist", "build", "core.wasm"));
  copyFileSync(
    join(root, "build", "core.constants.json"),
    join(root, "dist", "build", "core.constants.json"),
  );
  // The CLI as one JavaScript file, npm dependencies included: what the bin
  // and `deno run` start in an installed package. It finds the core at
  // dist/build/core.wasm (ts/core.ts: ../build/core.wasm from dist/cli/).
  run(bin("deno"), [
    "bundle",
    "--quiet",
    "--node-modules-dir=manual",
    "--platform",
    "deno",
    "-o",
    join("dist", "cli", "wshm.js"),
    join("cli", "main.ts"),
  ]);
}
if (only === undefined) writeFileSync(STAMP, inputsHash());
