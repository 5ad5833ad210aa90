// Builds everything a run needs: the core (release and debug), then the
// TypeScript host, tests and benchmarks into dist/ for Node (which cannot run
// .ts), with the core copied beside them. Runs on `npm install` (prepare).

import { execFileSync } from "node:child_process";
import { writeDerived } from "./core_describe.mjs";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: "inherit" });

const only = process.argv[2];
if (only !== "ts") {
  run(bin("asc"), ["--config", "asconfig.json", "--target", "release"]);
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
}
