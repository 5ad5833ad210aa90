// aarch64 under qemu-user. On x86_64 this suite runs `scripts/aarch64.mjs
// --quick`, which runs suites under the arm64 Node, Deno and Bun, and turns
// each line it prints into a test here: "ok" passes, "FAIL" fails with the
// suite's output, "SKIP" (no qemu-aarch64 installed, or a runtime that cannot
// start under qemu here) is recorded as skipped with the exact reason in the
// test's name, never as passed.
//
// The quick plan (the script says which suite proves what): segment.test.ts
// under Node (struct stat offsets, the shm/mmap syscalls through koffi),
// locks_mutex.test.ts under Bun (futex(2) wait and wake across a Deno, a Node
// and a Bun process), and this file under Node again, where it finds itself
// on aarch64 and runs the channel exchange below against a Deno server and a
// Bun client.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { decodeText, Segment } from "../ts/mod.ts";
import { arch } from "../ts/platform/arch.ts";
import { cleanup, root, runFixture, runtime, startFixture, uniqueName, within } from "./helpers.ts";

const test = suite(`aarch64 (${runtime})`);
test.after.each(cleanup);

// Everything under qemu runs about 5-20 times slower than natively, the more
// so on a loaded machine: the timeouts here are that much longer than elsewhere.
const SLOW = 20_000;

if (arch === "aarch64") {
  test("channel: a Deno server answers this process and a Bun client across processes, sync and async", async () => {
    const name = uniqueName("arm-chan");
    using segment = Segment.create(name, { size: 1 << 20 });
    const channel = segment.channel("rpc", { capacity: 1024 });
    const server = startFixture("deno", "channel_server", [name, "rpc", "sync", "adaptive"], 240_000);
    try {
      await server.line(/serving/, 120_000);
      for (let i = 0; i < 100; i++) {
        const reply = channel.request(`sync ${i}`, { timeoutMs: SLOW });
        assert.is(decodeText(reply), [...`sync ${i}`].reverse().join(""));
      }
      for (let i = 0; i < 20; i++) {
        const reply = await channel.requestAsync(`async ${i}`, { timeoutMs: SLOW });
        assert.is(decodeText(reply), [...`async ${i}`].reverse().join(""));
      }
      const out = await runFixture(
        "bun",
        "channel_client",
        [name, "rpc", "200", "1", "sync", "adaptive"],
        180_000,
      );
      assert.match(out, /ok 1 200/);
      assert.is(channel.stats().served, 100 + 20 + 200);
      assert.is(decodeText(await channel.requestAsync("stop", { timeoutMs: SLOW })), "bye");
      const result = await within(server.done, 60_000, "server exit");
      assert.is(result.code, 0, `server output: ${result.stdout}${result.stderr}`);
    } finally {
      server.kill("SIGKILL");
    }
    segment.unlink();
  });
} else if (runtime !== "node") {
  test.skip("the aarch64 run is made once, from this suite under Node (the script runs every runtime itself)", () => {});
} else {
  // The script reports every suite it ran, one line each; its own watchdog
  // bounds each suite, and this bounds the whole run.
  const run = await new Promise<{ code: number | null; output: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(root, "scripts", "aarch64.mjs"), "--quick", "--no-build"],
      { cwd: root, timeout: 900_000, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ code, output: stdout + stderr });
      },
    );
  });
  const lines = run.output.split("\n");
  const results = lines.flatMap((line, i) => {
    const m = line.match(/^(ok {2}|FAIL|SKIP) (\w+)\s+(\S+\.test\.ts)(.*)$/);
    if (m === null) return [];
    // A failing suite's output follows its line, indented with "     | ".
    let end = i + 1;
    while (end < lines.length && lines[end].startsWith("     |")) end++;
    return [{
      tag: m[1].trim(),
      runtime: m[2],
      file: m[3],
      rest: m[4],
      detail: lines.slice(i + 1, end).join("\n"),
    }];
  });
  for (const r of results) {
    const title = `${r.file} under aarch64 ${r.runtime}`;
    if (r.tag === "SKIP") {
      test.skip(`${title}, skipped${r.rest}`, () => {});
    } else {
      test(title, () => {
        assert.ok(r.tag === "ok", `${title} failed${r.rest}\n${r.detail}`);
      });
    }
  }
  test("scripts/aarch64.mjs --quick reported every suite and a summary", () => {
    assert.ok(results.length > 0, `no suite reported:\n${run.output}`);
    assert.match(run.output, /\d+ passed, \d+ failed/, `no summary:\n${run.output}`);
    const leaked = lines.filter((l) => l.startsWith("FAIL segments left"));
    assert.is(leaked.length, 0, leaked.join("\n"));
    if (results.some((r) => r.tag === "ok")) assert.is(run.code, 0, run.output);
  });
}

test.run();
