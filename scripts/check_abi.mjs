// Checks docs/ABI.md against the built core: every export of build/core.wasm
// (functions and globals) and every import must be named in the document,
// every exported function must have a signature there whose types match the
// module's, and every value the document gives for a global must be the
// module's. Names that look like exports but are not (stale ones) fail too.
//
//   node scripts/check_abi.mjs [--list]      (build first: node scripts/build.mjs wasm)
//
// --list prints every export with its wasm signature (or value) and exits.
//
// What the document must contain, so that this script can read it:
//   - a signature is an inline code span `name(param: type, ...) -> type`, where
//     type is i32, u32 or bool (wasm i32), i64 or u64 (wasm i64), f64, or () for none;
//   - a value is a table row whose first cell is one code span naming a global and
//     whose second cell is a number (decimal, 0x hex or 2^n) and nothing else.
// Only inline code spans outside fenced blocks count as mentions.

import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wasmPath = join(root, "build", "core.wasm");
const watPath = join(root, "build", "core.wat");
const docPath = join(root, "docs", "ABI.md");

function fail(message) {
  console.error(`check_abi: ${message}`);
  process.exit(1);
}

if (!existsSync(wasmPath)) fail(`${wasmPath} is missing: run node scripts/build.mjs wasm`);

// ─── the module: exports, imports, global values, function signatures ─────

const module = new WebAssembly.Module(readFileSync(wasmPath));
const exports = WebAssembly.Module.exports(module);
const imports = WebAssembly.Module.imports(module);

// Global values: instantiate over a shared memory with inert imports (nothing runs).
const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
const inert = () => 0;
const instance = new WebAssembly.Instance(module, {
  env: { memory },
  host: { wait: inert, wake: inert, nowMs: inert, processAlive: inert },
});
const globalValue = (name) => Number(instance.exports[name].value);

// Signatures come from the text form (the JS API does not expose them).
const signatures = new Map();
if (!existsSync(watPath)) fail(`${watPath} is missing: run node scripts/build.mjs wasm`);
if (statSync(watPath).mtimeMs + 1000 < statSync(wasmPath).mtimeMs) {
  fail("build/core.wat is older than build/core.wasm: rebuild with node scripts/build.mjs wasm");
}
{
  const wat = readFileSync(watPath, "utf8");
  const funcs = new Map();
  for (const m of wat.matchAll(/^ \(func (\$\S+)((?: \(param \$\d+ \w+\))*)(?: \(result (\w+)\))?/gm)) {
    const params = [...m[2].matchAll(/\(param \$\d+ (\w+)\)/g)].map((p) => p[1]);
    funcs.set(m[1], { params, result: m[3] ?? "()" });
  }
  const watExports = new Set();
  for (const m of wat.matchAll(/^ \(export "([^"]+)" \((func|global|memory|table) (\$\S+)\)\)/gm)) {
    watExports.add(m[1]);
    if (m[2] !== "func") continue;
    const sig = funcs.get(m[3]);
    if (!sig) fail(`build/core.wat: no definition of ${m[3]} (export ${m[1]})`);
    signatures.set(m[1], sig);
  }
  const wasmNames = exports.map((e) => e.name).sort().join(",");
  if ([...watExports].sort().join(",") !== wasmNames) {
    fail("build/core.wat and build/core.wasm export different names: rebuild both");
  }
}

const show = (sig) => `(${sig.params.join(", ")}) -> ${sig.result}`;

if (process.argv.includes("--list")) {
  for (const e of exports) {
    if (e.kind === "function") console.log(`function ${e.name}${show(signatures.get(e.name))}`);
    else if (e.kind === "global") console.log(`global   ${e.name} = ${globalValue(e.name)}`);
    else console.log(`${e.kind} ${e.name}`);
  }
  process.exit(0);
}

// ─── the document: code spans, signatures, value rows ─────────────────────

if (!existsSync(docPath)) fail(`${docPath} is missing`);
const doc = readFileSync(docPath, "utf8");
const prose = doc.replace(/^```[\s\S]*?^```/gm, "");
const spans = [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
const mentioned = new Set(spans.flatMap((s) => s.match(/[A-Za-z_][A-Za-z0-9_.]*/g) ?? []));

const TYPE = {
  i32: "i32",
  u32: "i32",
  bool: "i32",
  i64: "i64",
  u64: "i64",
  f64: "f64",
  f32: "f32",
  "()": "()",
};
const documented = new Map(); // name -> [{params, result, text}]
for (const s of spans) {
  const m = s.match(/^(\w+)\((.*)\)\s*->\s*(\w+|\(\))$/);
  if (!m) continue;
  const params = m[2].trim() === "" ? [] : m[2].split(",").map((p) => {
    const t = p.split(":")[1]?.trim();
    return TYPE[t] ?? `?${t}`;
  });
  const list = documented.get(m[1]) ?? [];
  list.push({ params, result: TYPE[m[3]] ?? `?${m[3]}`, text: s });
  documented.set(m[1], list);
}

const values = new Map(); // global -> [text of the value cell]
for (const line of prose.split("\n")) {
  const cells = line.split("|").slice(1, -1).map((c) => c.trim());
  if (cells.length < 2) continue;
  const name = cells[0].match(/^`(\w+)`$/)?.[1];
  const number = cells[1].match(/^(-?0x[0-9A-Fa-f]+|-?\d+|2\^\d+)$/)?.[1];
  if (!name || number === undefined) continue;
  const value = number.startsWith("2^") ? 2 ** Number(number.slice(2)) : Number(number);
  values.set(name, [...(values.get(name) ?? []), { value, text: cells[1] }]);
}

// ─── the checks ────────────────────────────────────────────────────────────

const problems = [];
const exportNames = new Set(exports.map((e) => e.name));

for (const e of exports) {
  if (!mentioned.has(e.name)) {
    problems.push(`export ${e.kind} ${e.name} is not mentioned in docs/ABI.md`);
    continue;
  }
  if (e.kind === "function") {
    const actual = signatures.get(e.name);
    const docs = documented.get(e.name);
    if (!docs) {
      problems.push(`export ${e.name}${show(actual)} has no signature span \`${e.name}(...) -> ...\``);
      continue;
    }
    for (const d of docs) {
      if (d.params.join() !== actual.params.join() || d.result !== actual.result) {
        problems.push(`\`${d.text}\` does not match the module's ${e.name}${show(actual)}`);
      }
    }
  } else if (e.kind === "global") {
    for (const { value, text } of values.get(e.name) ?? []) {
      if (value !== globalValue(e.name)) {
        problems.push(`global ${e.name} is ${globalValue(e.name)}, docs/ABI.md says ${text}`);
      }
    }
  }
}

for (const i of imports) {
  if (!mentioned.has(`${i.module}.${i.name}`)) {
    problems.push(`import ${i.module}.${i.name} (${i.kind}) is not mentioned as \`${i.module}.${i.name}\``);
  }
}

// Stale names: spelled like an export of this module, but the module has no such export.
const EXPORT_LIKE = new RegExp(
  "^(?:(?:segment|directory|entry|mutex|semaphore|rwlock|event|ring|queue|channel)[A-Z]\\w*" +
    "|(?:SEGMENT|HEADER|DIR|ENTRY|KIND|STATE|MUTEX|SEMAPHORE|RWLOCK|EVENT|RING|QUEUE|CHANNEL|STEP|WAIT|ROLE)_\\w*[A-Z0-9])$",
);
for (const name of mentioned) {
  if (EXPORT_LIKE.test(name) && !exportNames.has(name)) {
    problems.push(`docs/ABI.md names \`${name}\`, which the module does not export (stale or internal?)`);
  }
}
const functions = exports.filter((e) => e.kind === "function").length;
const globals = exports.filter((e) => e.kind === "global").length;
const checkedValues = [...values.keys()].filter((n) => exportNames.has(n)).length;
if (problems.length > 0) {
  for (const p of problems) console.error(`check_abi: ${p}`);
  console.error(`check_abi: ${problems.length} problem(s); ${exports.length} exports in build/core.wasm`);
  process.exit(1);
}
console.log(
  `check_abi: docs/ABI.md covers all ${exports.length} exports of build/core.wasm ` +
    `(${functions} functions, signatures match; ${globals} globals, ${checkedValues} values match) ` +
    `and its ${imports.length} imports`,
);
