#!/usr/bin/env node
// @ts-check
// The `wshm` npm bin: runs the CLI on Deno with the permissions of the command
// being run (cli/permissions.ts, which Node imports as its build,
// dist/cli/permissions.js). In a clone that is cli/main.ts itself; in an
// installed package (under node_modules, where Deno runs no TypeScript) the
// prebuilt bundle dist/cli/wshm.js that the package ships. Nothing is
// written anywhere, so a read-only install works.
//
// Deno is not a dependency of the package (Node-only users of the library
// should not download it): this bin takes WSHM_DENO, else the `deno` npm
// package if the project installed it, else `deno` on PATH (docs/install.md).
//
// Arguments, stdio and the exit code pass through; SIGINT, SIGTERM and SIGHUP
// are forwarded to Deno, and a Deno killed by a signal ends this process with
// the same signal.

import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));

/** Prints `wshm: error [code] message` on stderr and exits with `status`. */
function fail(code, message, status = 1) {
  console.error(`wshm: error [${code}] ${message}`);
  process.exit(status);
}

const permissionsModule = join(root, "dist", "cli", "permissions.js");
if (!existsSync(permissionsModule)) {
  fail("Unsupported", `Cannot find ${permissionsModule}: in a clone, run \`npm run build\``);
}
/** @type {typeof import("../cli/permissions.ts")} */
const { permissionsFor } = await import(pathToFileURL(permissionsModule).href);

/** An executable file at `path`, or undefined. */
function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The binary of the `deno` npm package, without running its install step (which writes into it). */
function denoPackageBinary() {
  let packageDir;
  try {
    packageDir = dirname(require.resolve("deno/package.json"));
  } catch {
    return undefined;
  }
  const inPackage = executable(join(packageDir, "deno"));
  if (inPackage) return inPackage;
  const arch = { x64: "x64", arm64: "arm64" }[process.arch];
  try {
    const platformPackage = createRequire(join(packageDir, "package.json"))
      .resolve(`@deno/${process.platform}-${arch}-glibc/package.json`);
    return executable(join(dirname(platformPackage), "deno"));
  } catch {
    return undefined;
  }
}

/** The Deno binary: WSHM_DENO, else the `deno` package's, else `deno` on PATH. */
function denoBinary() {
  if (process.env.WSHM_DENO) {
    return executable(process.env.WSHM_DENO) ??
      fail("DenoNotFound", `WSHM_DENO=${process.env.WSHM_DENO} is not an executable file`);
  }
  const found = denoPackageBinary() ??
    (process.env.PATH ?? "").split(delimiter).filter(Boolean).map((d) => executable(join(d, "deno")))
      .find(Boolean);
  return found ?? fail(
    "DenoNotFound",
    "The wshm command runs on Deno 2, which is not installed here. Either `npm install deno` in this " +
      "project, or install Deno onto PATH (https://docs.deno.com/runtime/getting_started/installation/), " +
      "or set WSHM_DENO=/path/to/deno. The library itself needs no Deno (docs/install.md).",
  );
}

/** cli/main.ts in a clone; the shipped bundle in an installed package. */
function entryPoint() {
  const sources = join(root, "cli", "main.ts");
  if (!root.split(sep).includes("node_modules") && existsSync(sources)) return sources;
  const bundle = join(root, "dist", "cli", "wshm.js");
  if (!existsSync(bundle)) fail("Unsupported", `Cannot find ${bundle}: the package is incomplete; reinstall wshm`);
  return bundle;
}

const args = process.argv.slice(2);
const command = args.find((a) => !a.startsWith("-"));
if (command === "bench" && !existsSync(join(root, "bench"))) {
  fail(
    "RepositoryOnly",
    "`wshm bench` runs the benchmark scripts of a clone of the repository (bench/ is not in the npm " +
      "package): git clone https://github.com/wshm/wshm && cd wshm && npm install && npm run wshm -- bench",
    2,
  );
}
const deno = denoBinary();
const child = spawn(
  deno,
  ["run", "--quiet", "--no-prompt", ...permissionsFor(command, root, deno), entryPoint(), ...args],
  { stdio: "inherit" },
);

// The terminal sends Ctrl-C to the whole foreground group, Deno included; a
// `kill` aimed at this process alone must reach Deno too.
for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"])) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}

child.on("error", (error) => fail("Unsupported", `Cannot run ${deno}: ${error.message}`));

child.on("exit", (code, signal) => {
  if (signal !== null) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
