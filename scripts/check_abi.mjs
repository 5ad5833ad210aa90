// Checks docs/ABI.md against the built core (as scripts/core_describe.mjs reads it, the source of the typed boundary too): every export of build/core.wasm
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

import { existsSync, readFileSync } from "node:fs";
import { describeCore } from "./core_describe.mjs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const docPath = join(root, "docs", "ABI.md");

function fail(message) {
  console.error(`check_abi: ${message}`);
  process.exit(1);
}

let described;
try {
  described = describeCore();
} catch (error) {
  fail(error.message);
}
const { exports, imports, signatures } = described;
const globalValue = (name) => described.globals.get(name);

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
