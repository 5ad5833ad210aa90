// Doc tests: finds every fenced code block of README.md and docs/**/*.md (not
// docs/api/, which typedoc generates) and every JSDoc `@example` of ts/**/*.ts,
// reads the `<!-- doctest: ... -->` annotation in front of each block, and runs
// the block the way it says. docs/contributing.md is the user-facing contract;
// test/docs.test.ts (programs, per runtime) and test/docs_shell.test.ts
// (annotations, shell, JSON, C: runtime-independent) drive it.

import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

/** How a program block is run: `node` is type-stripped only (what Node 20 runs as plain JavaScript), `node-tsc` compiled by tsc to ES2022 (what a Node 20 TypeScript project runs). */
export type DocRuntime = "deno" | "node" | "node-tsc" | "bun";
export const DOC_RUNTIMES: readonly DocRuntime[] = ["deno", "node", "node-tsc", "bun"];

/** What the annotation asks for. */
export type Annotation =
  | { kind: "program"; runtimes: DocRuntime[]; role: "alone" | "server" | "client" }
  | { kind: "shell"; role: "alone" | "server" | "client" }
  | { kind: "skip"; reason: string }
  | { kind: "part" }
  | { kind: "output" }
  | { kind: "json" }
  | { kind: "c" };

/** One fenced block with its annotation. */
export interface Block {
  /** Path relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's info string ("ts", "sh", ...). */
  lang: string;
  code: string;
  annotation: Annotation;
}

/** A block that cannot be run as written, with why. */
export interface AnnotationError {
  file: string;
  line: number;
  message: string;
}

const ANNOTATION = /^<!--\s*doctest:\s*([\s\S]*?)\s*-->$/;

/** Parses the text after `doctest:`; returns an error message for anything it does not know. */
export function parseAnnotation(text: string): Annotation | string {
  const words = text.trim();
  const skip = words.match(/^skip\s*\((.+)\)$/s);
  if (skip) return { kind: "skip", reason: skip[1].trim() };
  if (/^skip\b/.test(words)) return 'a skip needs its reason in parentheses: "skip (why)"';
  if (words === "part of the previous block") return { kind: "part" };
  if (words === "output of the previous block") return { kind: "output" };
  if (words === "json") return { kind: "json" };
  if (words === "c") return { kind: "c" };
  const tokens = words.split(/[\s,]+/).filter(Boolean);
  let role: "alone" | "server" | "client" = "alone";
  const last = tokens[tokens.length - 1];
  if (last === "server" || last === "client") {
    role = last;
    tokens.pop();
  }
  if (tokens.length === 1 && tokens[0] === "shell") return { kind: "shell", role };
  if (tokens.length === 0) return `no runtime named in "${words}"`;
  const unknown = tokens.filter((t) => !DOC_RUNTIMES.includes(t as DocRuntime));
  if (unknown.length > 0) {
    return `unknown word(s) ${unknown.map((u) => `"${u}"`).join(", ")} in "${words}": ` +
      `expected runtimes (${DOC_RUNTIMES.join(", ")}) then optionally "server" or "client", ` +
      `or shell, json, c, skip (reason), part of the previous block, output of the previous block`;
  }
  return { kind: "program", runtimes: [...new Set(tokens as DocRuntime[])], role };
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/;

/**
 * The fenced blocks of a markdown file, each with the annotation on the
 * nearest non-blank line before it; a block without one is an error.
 */
export function parseMarkdown(file: string, text: string): { blocks: Block[]; errors: AnnotationError[] } {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  const errors: AnnotationError[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(FENCE);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = lines[j].match(/^(\s*)(`{3,}|~{3,})\s*$/);
      if (close && close[2][0] === fence[0] && close[2].length >= fence.length) break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
    }
    const annotation = annotationBefore(lines, i);
    if (annotation === undefined) {
      errors.push({
        file,
        line: i + 1,
        message: "this code block has no <!-- doctest: ... --> annotation on the line before it",
      });
    } else {
      const parsed = parseAnnotation(annotation);
      if (typeof parsed === "string") errors.push({ file, line: i + 1, message: parsed });
      else blocks.push({ file, line: i + 1, lang, code: body.join("\n") + "\n", annotation: parsed });
    }
    i = j;
  }
  return { blocks, errors };
}

/** The annotation text that ends on the last non-blank line before `fenceLine`, if any. */
function annotationBefore(lines: string[], fenceLine: number): string | undefined {
  let end = fenceLine - 1;
  while (end >= 0 && lines[end].trim() === "") end--;
  if (end < 0 || !lines[end].trim().endsWith("-->")) return undefined;
  let start = end;
  while (start >= 0 && !lines[start].includes("<!--")) start--;
  if (start < 0) return undefined;
  const comment = lines.slice(start, end + 1).map((l) => l.trim()).join(" ");
  return comment.match(ANNOTATION)?.[1];
}

/**
 * The `@example` blocks of a TypeScript file's JSDoc. They need no annotation:
 * each is a program run on Deno, Bun and Node (compiled by tsc, as a Node 20
 * TypeScript project would), unless an annotation line in the comment says
 * otherwise.
 */
export function parseJsDoc(file: string, text: string): { blocks: Block[]; errors: AnnotationError[] } {
  const lines = text.split("\n");
  const stripped = lines.map((l) => l.replace(/^\s*\*\s?/, ""));
  const blocks: Block[] = [];
  const errors: AnnotationError[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*@example\s*$/.test(lines[i])) continue;
    let open = i + 1;
    let annotation: Annotation = { kind: "program", runtimes: ["deno", "bun", "node-tsc"], role: "alone" };
    const comment = stripped[open]?.trim().match(ANNOTATION);
    if (comment) {
      const parsed = parseAnnotation(comment[1]);
      if (typeof parsed === "string") errors.push({ file, line: open + 1, message: parsed });
      else annotation = parsed;
      open++;
    }
    if (!/^```(ts|typescript)\s*$/.test(stripped[open]?.trim() ?? "")) {
      errors.push({ file, line: i + 1, message: "an @example must be a ```ts fence right after the tag" });
      continue;
    }
    let j = open + 1;
    while (j < lines.length && stripped[j].trim() !== "```") j++;
    blocks.push({
      file,
      line: open + 1,
      lang: "ts",
      code: stripped.slice(open + 1, j).join("\n") + "\n",
      annotation,
    });
    i = j;
  }
  return { blocks, errors };
}

/** Every documentation file the doc tests cover, relative to `root`. */
export function docFiles(root: string): string[] {
  const found = ["README.md"];
  const walk = (dir: string) => {
    for (
      const entry of readdirSync(join(root, dir), { withFileTypes: true }).sort((a, b) =>
        a.name < b.name ? -1 : 1
      )
    ) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && path !== join("docs", "api")) walk(path);
      else if (entry.isFile() && entry.name.endsWith(".md")) found.push(path);
    }
  };
  walk("docs");
  return found;
}

/** Every TypeScript source whose JSDoc examples run. */
export function sourceFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) found.push(path);
    }
  };
  walk("ts");
  return found.sort();
}

/** A runnable unit: a block with the blocks that are part of it, its expected output and, for a server, its clients. */
export interface Program {
  /** Unique in one run; part of the segment names the program uses. */
  id: number;
  file: string;
  line: number;
  kind: "program" | "shell";
  runtimes: DocRuntime[];
  role: "alone" | "server" | "client";
  code: string;
  /** Where the code came from (for relative imports of JSDoc examples). */
  source: "markdown" | "jsdoc";
  expectedOutput?: string;
  clients: Program[];
}

/**
 * Groups blocks into programs: parts join the program before them, an output
 * block becomes its expected output, clients attach to the server before them.
 * Blocks that cannot be grouped so are errors.
 */
export function programs(
  blocks: Block[],
  source: "markdown" | "jsdoc",
): { programs: Program[]; errors: AnnotationError[] } {
  const result: Program[] = [];
  const errors: AnnotationError[] = [];
  let previous: Program | undefined;
  let server: Program | undefined;
  let id = 0;
  for (const block of blocks) {
    const a = block.annotation;
    const error = (message: string) => errors.push({ file: block.file, line: block.line, message });
    if (a.kind === "part" || a.kind === "output") {
      if (!previous || previous.file !== block.file) {
        error(
          `"${a.kind === "part" ? "part" : "output"} of the previous block" follows no program in this file`,
        );
      } else if (a.kind === "part") previous.code += block.code;
      else if (previous.expectedOutput !== undefined) {
        error("the previous program has an expected output already");
      } else previous.expectedOutput = block.code;
      continue;
    }
    if (a.kind !== "program" && a.kind !== "shell") {
      previous = undefined;
      continue;
    }
    const program: Program = {
      id: id++,
      file: block.file,
      line: block.line,
      kind: a.kind,
      runtimes: a.kind === "program" ? a.runtimes : [],
      role: a.role,
      code: block.code,
      source,
      clients: [],
    };
    previous = program;
    if (a.role === "client") {
      if (!server || server.file !== block.file) error("a client block follows no server block in this file");
      else server.clients.push(program);
      continue;
    }
    if (a.role === "server") server = program;
    result.push(program);
  }
  return { programs: result, errors };
}

/** Everything the doc tests read, parsed. */
export function collect(root: string): { programs: Program[]; blocks: Block[]; errors: AnnotationError[] } {
  const all: Program[] = [];
  const blocks: Block[] = [];
  const errors: AnnotationError[] = [];
  const add = (parsed: { blocks: Block[]; errors: AnnotationError[] }, source: "markdown" | "jsdoc") => {
    const grouped = programs(parsed.blocks, source);
    blocks.push(...parsed.blocks);
    errors.push(...parsed.errors, ...grouped.errors);
    all.push(...grouped.programs);
  };
  for (const file of docFiles(root)) {
    add(parseMarkdown(file, readFileSync(join(root, file), "utf8")), "markdown");
  }
  for (const file of sourceFiles(root)) {
    add(parseJsDoc(file, readFileSync(join(root, file), "utf8")), "jsdoc");
  }
  let id = 0;
  const renumber = (p: Program) => {
    p.id = id++;
    p.clients.forEach(renumber);
  };
  all.forEach(renumber);
  return { programs: all, blocks, errors };
}

/** Segment names a program uses ("/jobs") become names unique to this run, so that runs never collide. */
export function segmentPrefix(program: Program): string {
  return `/wshm-test-doc-${process.pid}-${program.id}-`;
}

/** The program with every segment name ("/jobs" as a string literal, or a /word argument in a shell line) made unique. */
export function uniqueNames(code: string, kind: "program" | "shell", prefix: string): string {
  if (kind === "program") {
    return code.replace(/(["'])\/([A-Za-z0-9][\w.-]*)\1/g, (_, q, name) => `${q}${prefix}${name}${q}`);
  }
  return code.replace(
    /(^|[\s=])\/([A-Za-z0-9][\w.-]*)(?=\s|$)/gm,
    (_, before, name) => `${before}${prefix}${name}`,
  );
}

/** Segments in /dev/shm with this prefix (removed, so a failing example leaks nothing). */
export function removeLeftovers(prefix: string): string[] {
  const file = prefix.slice(1);
  const left = existsSync("/dev/shm") ? readdirSync("/dev/shm").filter((f) => f.startsWith(file)) : [];
  for (const f of left) {
    try {
      unlinkSync(join("/dev/shm", f));
    } catch {
      // Removed meanwhile.
    }
  }
  return left.map((f) => "/" + f);
}

/** A scratch folder in which "wshm" resolves to the working tree, as an installed package would. */
export function makeWorkspace(root: string): string {
  const dir = mkdtempSync(join(tmpdir(), "wshm-doctest-"));
  mkdirSync(join(dir, "node_modules"));
  // Node and Bun resolve "wshm" through node_modules and package.json "exports" (dist/ts/mod.js), as for npm users.
  symlinkSync(root, join(dir, "node_modules", "wshm"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
  // Deno resolves it through an import map to the sources, as `deno.json` "exports" publishes them.
  writeFileSync(
    join(dir, "deno.json"),
    JSON.stringify({
      imports: {
        "wshm": join(root, "ts", "mod.ts"),
        "wshm/advanced": join(root, "ts", "advanced.ts"),
        "wshm/bridge": join(root, "ts", "bridge.ts"),
      },
    }),
  );
  return dir;
}

export function removeWorkspace(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** What a run of one process printed. */
export interface Outcome {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** A started process: its first stdout line, its end, a way to stop it. */
interface Started {
  firstLine: Promise<void>;
  done: Promise<Outcome>;
  stop(): void;
}

function start(
  command: string,
  argv: string[],
  cwd: string,
  timeoutMs: number,
  env: Record<string, string> = {},
): Started {
  const child = spawn(command, argv, {
    cwd,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let sawLine: () => void = () => {};
  let failedLine: (e: Error) => void = () => {};
  const firstLine = new Promise<void>((resolve, reject) => {
    sawLine = resolve;
    failedLine = reject;
  });
  // Only a server's runner awaits the first line; for other programs a missing one is no error.
  firstLine.catch(() => {});
  child.stdout!.on("data", (d) => {
    stdout += d;
    if (stdout.includes("\n")) sawLine();
  });
  child.stderr!.on("data", (d) => (stderr += d));
  const watchdog = setTimeout(() => {
    stderr += `\n[doctest] killed after ${timeoutMs} ms\n`;
    child.kill("SIGKILL");
  }, timeoutMs);
  const done = new Promise<Outcome>((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(watchdog);
      failedLine(new Error(`it exited (${code ?? signal}) before printing a line:\n${stdout}${stderr}`));
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    firstLine,
    done,
    stop: () => {
      try {
        process.kill(child.pid!, "SIGTERM");
      } catch {
        // Exited already.
      }
    },
  };
}

/** Paths the doc tests need. */
export interface Context {
  root: string;
  workspace: string;
}

const PROGRAM_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 15_000;

let typescript: typeof import("typescript") | undefined;

/** Type stripping (target ESNext keeps `using` as written) or a tsc build to ES2022 (which lowers it). */
async function compileForNode(code: string, lowered: boolean): Promise<string> {
  typescript ??= (await import("typescript")).default;
  const ts = typescript;
  return ts.transpileModule(code, {
    compilerOptions: {
      target: lowered ? ts.ScriptTarget.ES2022 : ts.ScriptTarget.ESNext,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: false,
    },
  }).outputText;
}

/** Relative imports of a JSDoc example ("./codec.ts") resolved to the file beside the source, or its build for Node. */
function resolveRelativeImports(program: Program, code: string, runtime: DocRuntime, root: string): string {
  if (program.source !== "jsdoc") return code;
  const dir = join(root, program.file, "..");
  return code.replace(/(from\s+|import\s*\(\s*)(["'])(\.\.?\/[^"']+)\2/g, (_, lead, q, path) => {
    let target = join(dir, path);
    if (runtime === "node" || runtime === "node-tsc") {
      target = join(root, "dist", relative(root, target)).replace(/\.ts$/, ".js");
    }
    return `${lead}${q}${target}${q}`;
  });
}

/** The command that runs a program's code on `runtime` (writing the file it needs into the workspace). */
async function programCommand(
  program: Program,
  runtime: DocRuntime,
  context: Context,
  tag: string,
): Promise<[string, string[]]> {
  const { root, workspace } = context;
  const bin = (name: string) => join(root, "node_modules", ".bin", name);
  const code = resolveRelativeImports(
    program,
    uniqueNames(program.code, "program", segmentPrefix(program)),
    runtime,
    root,
  );
  if (runtime === "deno") {
    const file = join(workspace, `${tag}.ts`);
    writeFileSync(file, code);
    // The permissions docs/guide.md documents for library users.
    return [bin("deno"), [
      "run",
      "--quiet",
      "--allow-ffi",
      `--allow-read=${join(root, "build", "core.wasm")}`,
      file,
    ]];
  }
  if (runtime === "bun") {
    const file = join(workspace, `${tag}.ts`);
    writeFileSync(file, code);
    return [bin("bun"), ["run", file]];
  }
  const file = join(workspace, `${tag}.mjs`);
  writeFileSync(file, await compileForNode(code, runtime === "node-tsc"));
  return [process.execPath.includes("node") ? process.execPath : "node", [file]];
}

/** `npx wshm` in a shell block runs the bin npx would start, without npx's own first-use cost. */
function shellCommand(program: Program, context: Context): [string, string[]] {
  const code = uniqueNames(program.code, "shell", segmentPrefix(program))
    .replace(/\bnpx wshm\b/g, `node ${join(context.root, "bin", "wshm.mjs")}`);
  const script = program.role === "server" ? `exec ${code.trim()}` : `set -euo pipefail\n${code}`;
  return ["bash", ["-c", script]];
}

function describe(outcome: Outcome): string {
  return `exit ${outcome.code ?? outcome.signal}\n--- stdout\n${outcome.stdout}--- stderr\n${outcome.stderr}`;
}

/** Stdout as a reader compares it with an output block: names given back their documented form, trailing blanks gone. */
function normalise(text: string, prefix: string): string {
  return text.split(prefix).join("/").split("\n").map((l) => l.trimEnd()).join("\n").trimEnd();
}

function checkOutput(program: Program, outcome: Outcome, where: string): void {
  if (program.expectedOutput === undefined) return;
  const got = normalise(outcome.stdout, segmentPrefix(program));
  const want = normalise(program.expectedOutput, segmentPrefix(program));
  if (got !== want) throw new Error(`${where} printed\n${got}\nbut the documented output is\n${want}`);
}

async function startProgram(
  program: Program,
  runtime: DocRuntime | "shell",
  context: Context,
  timeoutMs: number,
): Promise<Started> {
  const tag = `p${program.id}-${runtime}`;
  const [command, argv] = runtime === "shell"
    ? shellCommand(program, context)
    : await programCommand(program, runtime, context, tag);
  if (runtime !== "shell") return start(command, argv, context.workspace, timeoutMs);
  // Shell blocks see the project's tools (deno, bun) on PATH, as `npm run` and `npx` give them.
  const path = `${join(context.root, "node_modules", ".bin")}:${process.env.PATH ?? ""}`;
  return start(command, argv, context.root, timeoutMs, { PATH: path });
}

function label(program: Program, runtime: string): string {
  return `${program.file}:${program.line} (${runtime})`;
}

/** Runs a program that is not a server to its end: it must exit 0, print its documented output and leave no segment. */
export async function runAlone(
  program: Program,
  runtime: DocRuntime | "shell",
  context: Context,
): Promise<void> {
  const where = label(program, runtime);
  const outcome = await (await startProgram(program, runtime, context, PROGRAM_TIMEOUT_MS)).done;
  const left = removeLeftovers(segmentPrefix(program));
  if (outcome.code !== 0) throw new Error(`${where} failed: ${describe(outcome)}`);
  checkOutput(program, outcome, where);
  if (left.length > 0) throw new Error(`${where} left segments behind: ${left.join(", ")}`);
}

/**
 * Runs a server on `runtime`: once it has printed a line, each client on each
 * of its runtimes in turn (the clients share the server's segment names); then
 * SIGTERM, on which the server must exit 0 and leave no segment.
 */
export async function runServer(
  server: Program,
  runtime: DocRuntime | "shell",
  context: Context,
): Promise<void> {
  const where = label(server, runtime);
  const prefix = segmentPrefix(server);
  const running = await startProgram(server, runtime, context, PROGRAM_TIMEOUT_MS * 2);
  try {
    try {
      await Promise.race([
        running.firstLine,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`no line within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS)
        ),
      ]);
    } catch (e) {
      running.stop();
      throw new Error(`${where} did not get ready: ${(e as Error).message}\n${describe(await running.done)}`);
    }
    for (const client of server.clients) {
      const shared = { ...client, id: server.id };
      for (const rt of client.kind === "shell" ? ["shell" as const] : client.runtimes) {
        const outcome = await (await startProgram(shared, rt, context, PROGRAM_TIMEOUT_MS)).done;
        const whereClient = `${label(client, rt)}, client of ${where}`;
        if (outcome.code !== 0) throw new Error(`${whereClient} failed: ${describe(outcome)}`);
        checkOutput({ ...client, id: server.id }, outcome, whereClient);
      }
    }
  } finally {
    running.stop();
  }
  const outcome = await running.done;
  const left = removeLeftovers(prefix);
  // A program server exits 0 on SIGTERM; a shell server is the wshm CLI, which cleans up and then ends by
  // the signal, as shells expect (docs/cli.md): status 143 or the signal itself.
  const stopped = outcome.code === 0 ||
    (server.kind === "shell" && (outcome.code === 143 || outcome.signal === "SIGTERM"));
  if (!stopped) throw new Error(`${where} did not stop cleanly on SIGTERM: ${describe(outcome)}`);
  if (left.length > 0) throw new Error(`${where} left segments behind: ${left.join(", ")}`);
}

/** Checks a C block: it must compile (syntax and types, all warnings as errors). */
export function compileC(block: Block, workspace: string): void {
  const file = join(workspace, `block-${block.line}.c`);
  writeFileSync(file, block.code);
  execFileSync("gcc", ["-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", file], { stdio: "pipe" });
}

/** Runs `tasks` at most `limit` at a time; each result settles its own promise. */
export function pool<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T>[] {
  const results: Promise<T>[] = [];
  let active = 0;
  const queue: Array<() => void> = [];
  for (const task of tasks) {
    results.push(
      new Promise<T>((resolve, reject) => {
        const run = () => {
          active++;
          task().then(resolve, reject).finally(() => {
            active--;
            queue.shift()?.();
          });
        };
        if (active < limit) run();
        else queue.push(run);
      }),
    );
  }
  // A rejection is read by the test that awaits it; until then it must not count as unhandled.
  for (const r of results) r.catch(() => {});
  return results;
}
