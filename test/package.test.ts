// The npm package as its users get it: `npm pack`, install the tarball into an
// empty folder, and there run a program under Node and under Bun that talks
// to a Deno server running from this repository. Proves that the package is
// self-contained (ESM, types, the core .wasm found beside the module, koffi).

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanup, root, runtime, startFixture, uniqueName, within } from "./helpers.ts";

const test = suite(`npm package (${runtime})`);
test.after.each(cleanup);

let folder = "";
test.before(() => {
  folder = mkdtempSync(join(tmpdir(), "wshm-package-"));
});
test.after(() => {
  if (folder) rmSync(folder, { recursive: true, force: true });
});

const CONSUMER = `
import { Segment } from "wshm";
const [name, count] = process.argv.slice(-2);
const segment = Segment.open(name, { timeoutMs: 5000 });
const channel = segment.channel("rpc");
for (let i = 0; i < Number(count); i++) {
  const text = "message " + i + " from " + (globalThis.Bun ? "bun" : "node");
  const reply = new TextDecoder().decode(channel.request(text, { timeoutMs: 5000 }));
  if (reply !== text.toUpperCase()) throw new Error("wrong reply " + reply + " to " + text);
}
segment.close();
console.log("exchanged " + count);
`;

test("the packed tarball installs into an empty folder and exchanges with a Deno server from Node and Bun", async () => {
  const npm = (args: string[], cwd: string) =>
    execFileSync("npm", args, {
      cwd,
      encoding: "utf8",
      env: { ...process.env, npm_config_loglevel: "error" },
    });
  // The runner has built dist/ already; packing must not rebuild (prepare) in the middle of a test run.
  const packed = JSON.parse(npm(["pack", "--json", "--ignore-scripts", "--pack-destination", folder], root));
  const tarball = join(folder, packed[0].filename);
  const files: string[] = packed[0].files.map((f: { path: string }) => f.path);
  assert.ok(files.includes("dist/build/core.wasm"), "the core is in the package");
  assert.ok(files.includes("dist/ts/mod.d.ts"), "the types are in the package");
  assert.not.ok(files.some((f) => f.startsWith("dist/test/")), "tests stay out of the package");

  writeFileSync(
    join(folder, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  npm(["install", tarball, "--omit=optional", "--no-audit", "--no-fund", "--prefer-offline"], folder);
  writeFileSync(join(folder, "consumer.mjs"), CONSUMER);
  assert.ok(existsSync(join(folder, "node_modules", "wshm", "dist", "build", "core.wasm")));
  const installed = JSON.parse(readFileSync(join(folder, "node_modules", "wshm", "package.json"), "utf8"));
  assert.ok(installed.dependencies.koffi, "koffi is a dependency");

  const name = uniqueName("package");
  const server = startFixture("deno", "package_server", [name], 120_000);
  try {
    await server.line(/^ready$/, 30_000);
    const bun = join(root, "node_modules", ".bin", "bun");
    const fromNode = runIn(folder, "node", ["consumer.mjs", name, "200"]);
    const fromBun = runIn(folder, bun, ["consumer.mjs", name, "200"]);
    assert.match(fromNode, /exchanged 200/);
    assert.match(fromBun, /exchanged 200/);
  } finally {
    server.kill("SIGTERM");
    await within(server.done, 10_000, "the server to stop").catch(() => server.kill("SIGKILL"));
  }
});

/** Runs `command args` in `cwd` (the consumer folder, not the repository), at most 60 s; returns stdout. */
function runIn(cwd: string, command: string, args: string[]): string {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: "utf8",
      timeout: 60_000,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    // deno-lint-ignore no-explicit-any
    const e = error as any;
    throw new Error(
      `${command} ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`,
    );
  }
}

test.run();
