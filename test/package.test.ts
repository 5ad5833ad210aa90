// The npm package as its users get it: the tarball scripts/pack.mjs makes,
// installed into an empty folder (from npm's cache where it can), used from Node (ESM and require),
// Bun (the same) and Deno (`npm:wshm` with the flags docs/install.md gives),
// its declarations compiled by tsc without the DOM lib, its bin run with
// node_modules mounted read-only; and the clone's side: prepare, the lock
// file, the JSR dry run, signals through the bin.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanup, root, runtime, uniqueName, within } from "./helpers.ts";

const test = suite(`npm package (${runtime})`);
test.after.each(cleanup);

const bin = (name: string) => join(root, "node_modules", ".bin", name);
const deno = bin("deno");

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command args` in `cwd`, at most `timeoutMs`; never throws. */
function run(
  cwd: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 90_000,
): Ran {
  const r = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    timeout: timeoutMs,
    env: { ...process.env, NO_COLOR: "1", npm_config_loglevel: "error", ...env },
  });
  return {
    status: r.status,
    stdout: r.stdout ?? "",
    stderr: (r.stderr ?? "") + (r.error ? String(r.error) : ""),
  };
}

/** As `run`, insisting on exit 0; returns stdout. */
function ok(cwd: string, command: string, args: string[], env: Record<string, string> = {}): string {
  const r = run(cwd, command, args, env);
  if (r.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

let folder = "";
let packed: { filename: string; files: { path: string }[] } = { filename: "", files: [] };
let installOutput = "";
const installed = () => join(folder, "node_modules", "wshm");

test.before(() => {
  folder = mkdtempSync(join(tmpdir(), "wshm-package-"));
  // The runner has built dist/ already; pack.mjs only checks that it is current.
  // pack.mjs builds first if a source changed since the last build: allow for a whole build.
  const pack = run(root, "node", [join(root, "scripts", "pack.mjs"), "--out", folder], {}, 300_000);
  if (pack.status !== 0) throw new Error(`scripts/pack.mjs exited ${pack.status}:\n${pack.stderr}`);
  packed = JSON.parse(pack.stdout)[0];
  writeFileSync(
    join(folder, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  const r = run(folder, "npm", [
    "install",
    join(folder, packed.filename),
    // The tarball's dependencies are resolved from their ranges, which needs each one's registry metadata:
    // a clone's install (from the lock file) fetches only the tarballs, so a fresh machine's cache lacks
    // it. From the cache where it can, from the registry where it must.
    "--prefer-offline",
    "--no-audit",
    "--no-fund",
  ], {
    npm_config_loglevel: "warn",
  });
  if (r.status !== 0) throw new Error(`npm install of the tarball failed:\n${r.stdout}\n${r.stderr}`);
  installOutput = r.stdout + r.stderr;
});
test.after(() => {
  if (folder) rmSync(folder, { recursive: true, force: true });
});

test("the tarball ships the build, the CLI bundle, types, maps and their sources, LICENSE and CHANGELOG", () => {
  const files = packed.files.map((f) => f.path);
  for (
    const f of [
      "dist/build/core.wasm",
      "dist/ts/mod.js",
      "dist/ts/mod.d.ts",
      "dist/ts/mod.js.map",
      "dist/ts/mod.d.ts.map",
      "ts/mod.ts",
      "dist/cli/wshm.js",
      "dist/cli/permissions.js",
      "bin/wshm.mjs",
      "LICENSE",
      "CHANGELOG.md",
    ]
  ) assert.ok(files.includes(f), `${f} is in the package`);
  assert.not.ok(files.some((f) => f.startsWith("dist/test/")), "tests stay out of the package");
  assert.not.ok(files.some((f) => f.startsWith("bench/")), "benchmarks stay out of the package");
  // Every map's sources are in the package, so "go to definition" lands in real TypeScript.
  for (const map of ["dist/ts/mod.js.map", "dist/ts/segment.d.ts.map", "dist/ts/platform/mod.js.map"]) {
    const { sources } = JSON.parse(readFileSync(join(installed(), map), "utf8"));
    for (const source of sources) {
      assert.ok(
        existsSync(join(installed(), map, "..", source)),
        `${map} points at ${source}, which is shipped`,
      );
    }
  }
  assert.match(readFileSync(join(installed(), "LICENSE"), "utf8"), /MIT License[\s\S]*the wshm authors/);
});

test("the published manifest: metadata, no scripts, Deno only as an optional peer (not installed)", () => {
  const manifest = JSON.parse(readFileSync(join(installed(), "package.json"), "utf8"));
  assert.is(
    manifest.scripts,
    undefined,
    "no scripts (npm would list prepare in its install-scripts warning)",
  );
  assert.is(manifest.devDependencies, undefined);
  assert.is(manifest.repository.url, "git+https://github.com/wshm/wshm.git");
  assert.is(manifest.bugs.url, "https://github.com/wshm/wshm/issues");
  assert.ok(manifest.homepage.startsWith("https://github.com/wshm/wshm"));
  assert.is(manifest.sideEffects, false);
  assert.is(manifest.dependencies.deno, undefined);
  assert.is(manifest.optionalDependencies?.deno, undefined);
  assert.ok(manifest.peerDependenciesMeta.deno.optional, "deno is an optional peer");
  assert.not.ok(
    existsSync(join(folder, "node_modules", "deno")),
    "npm did not install Deno for a library user",
  );
  assert.not.match(installOutput, /wshm@/, `npm says nothing about wshm's scripts:\n${installOutput}`);
});

const SERVER = `
import { Segment } from "npm:wshm";
const name = Deno.args[0];
const segment = Segment.create(name, { size: 1 << 20 });
const channel = segment.channel("rpc", { capacity: 4096 });
const stop = new AbortController();
Deno.addSignalListener("SIGTERM", () => stop.abort());
const serving = channel.serve((request) => request.text().toUpperCase(), { signal: stop.signal });
console.log("ready");
await serving;
segment.close();
Segment.unlink(name);
console.log("stopped");
`;

const client = (load: string) => `
${load}
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

test("a Deno server (npm:wshm, --allow-ffi --allow-read=<core.wasm>) answers Node and Bun, by import and require", async () => {
  writeFileSync(join(folder, "server.ts"), SERVER);
  writeFileSync(join(folder, "esm.mjs"), client(`import { Segment } from "wshm";`));
  writeFileSync(join(folder, "cjs.cjs"), client(`const { Segment } = require("wshm");`));
  const name = uniqueName("package");
  const core = join("node_modules", "wshm", "dist", "build", "core.wasm");
  const server = spawn(deno, ["run", "--quiet", "--allow-ffi", `--allow-read=${core}`, "server.ts", name], {
    cwd: folder,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  server.stdout.on("data", (d) => (out += d));
  server.stderr.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => server.on("close", (code) => resolve(code)));
  try {
    await within(
      new Promise<void>((resolve, reject) => {
        server.stdout.on("data", () => out.includes("ready") && resolve());
        exited.then(() => reject(new Error(`the Deno server exited:\n${out}`)));
      }),
      60_000,
      "the Deno server to be ready",
    );
    for (
      const [runner, file] of [["node", "esm.mjs"], ["node", "cjs.cjs"], [bin("bun"), "esm.mjs"], [
        bin("bun"),
        "cjs.cjs",
      ]]
    ) {
      const r = run(folder, runner, [file, name, "100"]);
      assert.is(r.status, 0, `${runner} ${file}:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /exchanged 100/);
      assert.not.match(r.stderr, /Warning/, `${runner} ${file} warns nothing: ${r.stderr}`);
    }
    // process.kill, not server.kill, and its last line rather than its exit
    // code: Deno's child_process reports a child that got a signal as killed
    // by it, even when it handled the signal and exited 0.
    process.kill(server.pid!, "SIGTERM");
    await within(exited, 15_000, "the Deno server to stop");
    assert.match(out, /stopped/, `the server stops cleanly:\n${out}`);
    assert.not.ok(existsSync(`/dev/shm${name}`), "the server removed its segment");
  } finally {
    if (server.exitCode === null) server.kill("SIGKILL");
  }
});

test("the declarations compile with tsc under lib ES2022 + @types/node, no DOM, skipLibCheck off", () => {
  writeFileSync(
    join(folder, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        lib: ["ES2022"],
        types: ["node"],
        typeRoots: [join(root, "node_modules", "@types")],
        strict: true,
        skipLibCheck: false,
        noEmit: true,
      },
      files: ["app.ts"],
    }),
  );
  writeFileSync(
    join(folder, "app.ts"),
    `import { Segment, WshmError, type WshmErrorCode } from "wshm";
import { internals } from "wshm/advanced";
const segment: Segment = Segment.open("/x");
const code: WshmErrorCode = new WshmError("NotFound", "x").code;
const bytes: number = internals(segment).memory.buffer.byteLength;
segment.channel("rpc").request("hello", { timeoutMs: 1000 });
console.log(code, bytes);
`,
  );
  const r = run(folder, bin("tsc"), ["-p", "tsconfig.json"]);
  assert.is(r.status, 0, `tsc:\n${r.stdout}\n${r.stderr}`);
  // Internals stay out of every shipped declaration.
  const dts = readdirSync(join(installed(), "dist", "ts"), { recursive: true })
    .map(String).filter((f) => f.endsWith(".d.ts"));
  for (const f of dts) {
    const text = readFileSync(join(installed(), "dist", "ts", f), "utf8");
    for (const internal of ["findOrCreate", "cached<", "assertOpen", "lastResponseLength", "WebAssembly."]) {
      assert.not.ok(
        text.split("\n").some((l) => l.includes(internal) && !l.trim().startsWith("*") && !l.includes("/**")),
        `${f} declares ${internal}`,
      );
    }
    assert.not.match(
      text,
      /constructor\((map|mapping|segment|handle|offset)/,
      `${f} has an internal constructor`,
    );
  }
});

test("the bin runs from a read-only node_modules (bind mount, unshare -m): --help and ls", () => {
  const script = [
    "set -e",
    "mount --bind node_modules node_modules",
    "mount -o remount,bind,ro node_modules",
    "if touch node_modules/wshm/probe 2>/dev/null; then echo WRITABLE; exit 3; fi",
    "npx --offline wshm --help",
    "echo @@@",
    "npx --offline wshm ls --json",
  ].join("\n");
  const r = run(folder, "unshare", ["-m", "sh", "-c", script], { WSHM_DENO: deno });
  assert.is(r.status, 0, `read-only run:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /Usage: wshm/);
  assert.ok(JSON.parse(r.stdout.split("@@@\n")[1]), "ls --json printed JSON");
  assert.not.ok(existsSync(join(installed(), "probe")));
});

test("the CLI runs with deno run from the package: npm:wshm/cli and the bundle's path", () => {
  const viaExport = run(folder, deno, [
    "run",
    "--quiet",
    "--node-modules-dir=manual",
    "-A",
    "npm:wshm/cli",
    "--help",
  ]);
  assert.is(viaExport.status, 0, viaExport.stderr);
  assert.match(viaExport.stdout, /Usage: wshm/);
  const core = join("node_modules", "wshm", "dist", "build", "core.wasm");
  const viaPath = run(folder, deno, [
    "run",
    "--quiet",
    "--allow-ffi",
    `--allow-read=${core},/etc/passwd`,
    "--allow-env=NO_COLOR,FORCE_COLOR,CI,TERM,CLICOLOR_FORCE",
    "node_modules/wshm/dist/cli/wshm.js",
    "client",
    uniqueName("absent"),
    "hello",
  ]);
  assert.is(viaPath.status, 1, `a missing segment is a failure:\n${viaPath.stdout}\n${viaPath.stderr}`);
  assert.match(viaPath.stderr, /\[NotFound\]/);
});

test("without Deno the bin says how to get it ([DenoNotFound], exit 1); bench is repository-only (exit 2)", () => {
  const cli = join(installed(), "bin", "wshm.mjs");
  const noDeno = run(folder, "node", [cli, "ls"], { PATH: "/usr/bin:/bin", WSHM_DENO: "" });
  assert.is(noDeno.status, 1, noDeno.stderr);
  assert.match(noDeno.stderr, /error \[DenoNotFound\].*npm install deno/);
  const bench = run(folder, "node", [cli, "bench"], { WSHM_DENO: deno });
  assert.is(bench.status, 2, bench.stderr);
  assert.match(bench.stderr, /error \[RepositoryOnly\]/);
});

test("prepare does nothing when the build is current (no file of dist/ rewritten)", () => {
  const before = statSync(join(root, "dist", "ts", "mod.js")).mtimeMs;
  const r = run(root, "node", [join(root, "scripts", "build.mjs"), "--if-stale"]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout + r.stderr, "", "nothing to say when current");
  assert.is(statSync(join(root, "dist", "ts", "mod.js")).mtimeMs, before);
});

test("npm install on a fresh clone leaves package-lock.json as committed (lock resolution)", () => {
  const clone = mkdtempSync(join(tmpdir(), "wshm-clone-"));
  try {
    ok(tmpdir(), "git", ["clone", "--quiet", "--no-checkout", root, clone]);
    ok(clone, "git", ["checkout", "--quiet", ok(root, "git", ["rev-parse", "HEAD"]).trim()]);
    const before = readFileSync(join(clone, "package-lock.json"), "utf8");
    ok(clone, "npm", [
      "install",
      "--package-lock-only",
      "--prefer-offline",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
    ]);
    assert.fixture(readFileSync(join(clone, "package-lock.json"), "utf8"), before);
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
});

test("deno publish --dry-run passes (the JSR configuration in deno.json)", () => {
  const r = run(root, deno, ["publish", "--dry-run", "--allow-dirty"], {}, 180_000);
  assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout + r.stderr, /Dry run complete/);
});

/**
 * Starts `node bin/wshm.mjs serve NAME` in a process group of its own (setsid,
 * which Deno's child_process has no `detached` for), as a shell would start it;
 * resolves with it and the Deno child's pid.
 */
async function startServe(name: string) {
  const child = spawn("setsid", ["node", join(root, "bin", "wshm.mjs"), "serve", name, "--json"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal }))
  );
  // The "ready" event, not the segment's file: serve creates the segment
  // before it subscribes to SIGINT/SIGTERM, and a signal in between ends
  // Deno the default way (cli/serve.ts; reported to the CLI's owner).
  const deadline = Date.now() + 60_000;
  while (!out.includes('"event":"ready"')) {
    if (Date.now() > deadline || child.exitCode !== null) {
      process.kill(-child.pid!, "SIGKILL");
      throw new Error(`wshm serve did not get ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(/\s+/);
  return { child, exited, denoPid: Number(children[0]), output: () => out };
}

for (
  const [signal, how] of [
    ["SIGTERM", "SIGTERM to the bin alone"],
    ["SIGINT", "Ctrl-C (SIGINT to the process group)"],
  ] as const
) {
  test(`${how} reaches Deno: serve removes its segment and the bin ends by the signal`, async () => {
    const name = uniqueName("bin-signal");
    const { child, exited, denoPid, output } = await startServe(name);
    try {
      assert.ok(denoPid > 0, "the bin started Deno");
      process.kill(signal === "SIGINT" ? -child.pid! : child.pid!, signal);
      const end = await within(exited, 20_000, `the bin to exit after ${signal}`);
      // docs/cli.md: a command stopped by a signal cleans up, then ends by that signal (the shell's convention).
      const ended = end.signal === signal || end.code === (signal === "SIGINT" ? 130 : 143);
      assert.ok(ended, `serve stopped by ${signal} ends by it: ${JSON.stringify(end)}\n${output()}`);
      assert.not.ok(existsSync(`/dev/shm${name}`), "the segment was removed");
      assert.not.ok(existsSync(`/proc/${denoPid}`), "the Deno child is gone");
    } finally {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // The group is gone: nothing left to stop.
      }
    }
  });
}

test("npm run wshm -- <args> in the clone runs the CLI from its sources", () => {
  const r = run(root, "npm", ["run", "--silent", "wshm", "--", "--version"]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /\d+\.\d+\.\d+/);
});

test.run();
