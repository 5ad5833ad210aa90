// Doc tests, runtime-independent: every code block of README.md and docs/ is
// annotated (an unannotated block fails, so new docs cannot skip silently),
// JSON blocks parse, C blocks compile, and shell blocks run for real (a server
// block with its clients). The conventions: docs/contributing.md.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  collect,
  compileC,
  docFiles,
  makeWorkspace,
  parseAnnotation,
  parseMarkdown,
  programs as group,
  removeWorkspace,
  runAlone,
  runServer,
} from "./doctest.ts";
import { root } from "./helpers.ts";

const test = suite("doc blocks: annotations, shell, JSON, C");

const { programs, blocks, errors } = collect(root);
const workspace = makeWorkspace(root);
const context = { root, workspace };
test.after(() => removeWorkspace(workspace));

for (const file of docFiles(root)) {
  test(`${file}: every code block has a valid doctest annotation`, () => {
    const mine = errors.filter((e) => e.file === file).map((e) => `${e.file}:${e.line}: ${e.message}`);
    assert.equal(mine, [], `blocks that cannot be checked:\n${mine.join("\n")}`);
  });
}

test("ts/: every JSDoc @example is a ```ts fence with a valid annotation, if any", () => {
  const mine = errors.filter((e) => e.file.startsWith("ts")).map((e) => `${e.file}:${e.line}: ${e.message}`);
  assert.equal(mine, [], mine.join("\n"));
});

test("every skip says why", () => {
  const bare = blocks.filter((b) => b.annotation.kind === "skip" && b.annotation.reason.length < 8);
  assert.equal(bare.map((b) => `${b.file}:${b.line}`), [], "a skip reason of a word or two explains nothing");
});

for (const block of blocks.filter((b) => b.annotation.kind === "json")) {
  test(`${block.file}:${block.line} is JSON (one document per line)`, () => {
    for (const line of block.code.split("\n").filter((l) => l.trim())) JSON.parse(line);
  });
}

for (const block of blocks.filter((b) => b.annotation.kind === "c")) {
  test(`${block.file}:${block.line} compiles with gcc`, () => compileC(block, workspace));
}

for (const program of programs.filter((p) => p.kind === "shell")) {
  const where = `${program.file}:${program.line}`;
  if (program.role === "server") {
    test(`${where} (shell) serves its clients, then stops on SIGTERM`, () =>
      runServer(program, "shell", context));
  } else test(`${where} runs in bash`, () => runAlone(program, "shell", context));
}

// The checker itself: each of these must be caught, or the doc tests could pass on wrong docs.
test("the checker rejects an unannotated block, a bare skip and an unknown runtime", () => {
  const { errors } = parseMarkdown(
    "x.md",
    "```ts\n1\n```\n\n<!-- doctest: skip -->\n```ts\n2\n```\n<!-- doctest: deno nod -->\n```ts\n3\n```\n",
  );
  assert.equal(errors.map((e) => e.line), [1, 6, 10], errors.map((e) => e.message).join("\n"));
  assert.equal(parseAnnotation("deno bun node-tsc server"), {
    kind: "program",
    runtimes: ["deno", "bun", "node-tsc"],
    role: "server",
  });
});

const markdownProgram = (text: string) =>
  group(parseMarkdown("self-test.md", text).blocks, "markdown").programs;

test("the checker fails a program that exits non-zero, prints other output or leaks a segment", async () => {
  const [failing, wrongOutput, leaking] = markdownProgram(
    "<!-- doctest: shell -->\n```sh\nfalse\n```\n" +
      "<!-- doctest: shell -->\n```sh\necho one\n```\n<!-- doctest: output of the previous block -->\n```text\ntwo\n```\n" +
      '<!-- doctest: shell -->\n```sh\nname=/leak\ntouch "/dev/shm$name"\n```\n',
  );
  const rejects = async (run: Promise<void>, pattern: RegExp) => {
    try {
      await run;
    } catch (e) {
      assert.match((e as Error).message, pattern);
      return;
    }
    assert.unreachable(`expected a failure matching ${pattern}`);
  };
  await rejects(runAlone(failing, "shell", context), /failed: exit 1/);
  await rejects(runAlone(wrongOutput, "shell", context), /documented output is\ntwo/);
  await rejects(runAlone(leaking, "shell", context), /left segments behind: \/wshm-test-doc-\d+-\d+-leak/);
});

test("the checker fails a server that does not exit 0 on SIGTERM", async () => {
  const [server] = markdownProgram(
    "<!-- doctest: shell server -->\n```sh\nbash -c 'trap \"exit 3\" TERM; echo ready; while :; do sleep 0.1; done'\n```\n" +
      "<!-- doctest: shell client -->\n```sh\ntrue\n```\n",
  );
  try {
    await runServer(server, "shell", context);
  } catch (e) {
    assert.match((e as Error).message, /did not stop cleanly on SIGTERM: exit 3/);
    return;
  }
  assert.unreachable("a server that exits 3 on SIGTERM passed");
});

test("the doc-test conventions are written down", () => {
  const text = readFileSync(join(root, "docs", "contributing.md"), "utf8");
  assert.ok(text.includes("<!-- doctest:"), "docs/contributing.md describes the annotations");
});

test.run();
