#!/usr/bin/env node
// @ts-check
// The `wshm` npm bin: runs cli/main.ts with the Deno binary that npm installed
// (the `deno` package), found relative to this package, never the working
// directory, with the permissions of the command being run (cli/permissions.ts,
// which Node imports as its build, dist/cli/permissions.js: npm run build).
// Arguments, stdio and the exit code pass through; SIGINT, SIGTERM and SIGHUP
// are forwarded to Deno, and a Deno killed by a signal ends this process with
// the same signal.

import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { basename, dirname, join, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const permissionsModule = join(root, "dist", "cli", "permissions.js");
if (!existsSync(permissionsModule)) {
  console.error(`wshm: error [Unsupported] Cannot find ${permissionsModule}: run \`npm run build\``);
  process.exit(1);
}
/** @type {typeof import("../cli/permissions.ts")} */
const { permissionsFor } = await import(pathToFileURL(permissionsModule).href);
const require = createRequire(join(root, "package.json"));

/** The Deno binary: WSHM_DENO, else the `deno` package's binary, else node_modules/.bin/deno. */
function denoBinary() {
  if (process.env.WSHM_DENO) return process.env.WSHM_DENO;
  try {
    const packageDir = dirname(require.resolve("deno/package.json"));
    const exe = join(packageDir, process.platform === "win32" ? "deno.exe" : "deno");
    if (existsSync(exe)) return realpathSync(exe);
    // The package keeps its binary in a platform package until first use.
    return realpathSync(require(join(packageDir, "install_api.cjs")).runInstall());
  } catch {
    for (const candidate of [join(root, "node_modules", ".bin", "deno"), join(root, "..", ".bin", "deno")]) {
      if (existsSync(candidate)) return realpathSync(candidate);
    }
  }
  console.error(
    "wshm: error [Unsupported] Cannot find the Deno binary: install the `deno` npm package " +
      "(npm install deno) or set WSHM_DENO to a Deno 2 executable",
  );
  process.exit(1);
}

/**
 * The script Deno runs: cli/main.ts, except inside node_modules, where Deno
 * (like Node) refuses to strip TypeScript types, even to bundle. There the
 * sources are copied to a temporary folder outside node_modules and bundled
 * once into dist/cli/wshm.js (the package is replaced whole on upgrade, so an
 * existing bundle is never stale). The bundle finds the core at
 * dist/build/core.wasm, which the package ships.
 * @param {string} deno
 */
function entryPoint(deno) {
  const sources = join(root, "cli", "main.ts");
  if (!root.split(sep).includes("node_modules")) return sources;
  const bundle = join(root, "dist", "cli", "wshm.js");
  if (existsSync(bundle)) return bundle;
  const work = mkdtempSync(join(tmpdir(), "wshm-bundle-"));
  let result;
  try {
    for (const part of ["cli", "ts", "package.json"]) cpSync(join(root, part), join(work, part), { recursive: true });
    // The npm dependencies, wherever npm put them (hoisted or not).
    let modules = dirname(require.resolve("commander"));
    while (basename(modules) !== "node_modules") modules = dirname(modules);
    symlinkSync(modules, join(work, "node_modules"), "dir");
    result = spawnSync(
      deno,
      ["bundle", "--quiet", "--node-modules-dir=manual", "--platform", "deno", "-o", bundle, join(work, "cli", "main.ts")],
      { cwd: work, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" },
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (result.status !== 0 || !existsSync(bundle)) {
    console.error(
      `wshm: error [Unsupported] Cannot bundle the CLI into ${bundle}: ${(result.stderr || String(result.error)).trim()}`,
    );
    process.exit(1);
  }
  return bundle;
}

const args = process.argv.slice(2);
const command = args.find((a) => !a.startsWith("-"));
const deno = denoBinary();
const child = spawn(
  deno,
  ["run", "--quiet", "--no-prompt", ...permissionsFor(command, root, deno), entryPoint(deno), ...args],
  { stdio: "inherit" },
);

// The terminal sends Ctrl-C to the whole foreground group, Deno included; a
// `kill` aimed at this process alone must reach Deno too.
for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"])) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}

child.on("error", (error) => {
  console.error(`wshm: error [Unsupported] Cannot run ${deno}: ${error.message}`);
  process.exit(1);
});

child.on("exit", (code, signal) => {
  if (signal !== null) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
