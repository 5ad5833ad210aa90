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

test("the doc-test conventions are written down", () => {
  const text = readFileSync(join(root, "docs", "contributing.md"), "utf8");
  assert.ok(text.includes("<!-- doctest:"), "docs/contributing.md describes the annotations");
});

test.run();
