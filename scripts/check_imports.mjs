// Checks the layering of the sources: no import circle inside ts/ (type-only
// imports count: a circle of types is a circle of concepts), and layers that
// import downwards only: ts/ imports nothing from cli/, bench/ or test/, and
// cli/ nothing from bench/ or test/. Comments are ignored, so a JSDoc example
// that imports "./mod.ts" is not an import.
//
//   node scripts/check_imports.mjs

import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function sources(folder) {
  const found = [];
  (function walk(dir) {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|mjs)$/.test(name)) found.push(resolve(path));
    }
  })(join(root, folder));
  return found;
}

/** The relative imports of a file, resolved to absolute paths. */
function importsOf(file) {
  const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  return [...code.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)"/g)]
    .map((m) => resolve(dirname(file), m[1]));
}

const problems = [];
const layer = (file) => relative(root, file).split("/")[0];
const below = { ts: new Set(["ts"]), cli: new Set(["ts", "cli"]) };
for (const folder of ["ts", "cli"]) {
  for (const file of sources(folder)) {
    for (const target of importsOf(file)) {
      if (!below[folder].has(layer(target))) {
        problems.push(
          `${relative(root, file)} imports ${relative(root, target)}: ${folder}/ imports downwards only`,
        );
      }
    }
  }
}

const tsFiles = sources("ts");
const graph = new Map(tsFiles.map((f) => [f, importsOf(f).filter((d) => tsFiles.includes(d))]));
const state = new Map();
const stack = [];
function visit(node) {
  state.set(node, "open");
  stack.push(node);
  for (const next of graph.get(node)) {
    if (state.get(next) === "open") {
      const circle = stack.slice(stack.indexOf(next)).concat(next).map((f) => relative(root, f));
      problems.push(`import circle: ${circle.join(" -> ")}`);
    } else if (!state.has(next)) visit(next);
  }
  stack.pop();
  state.set(node, "done");
}
for (const file of tsFiles) if (!state.has(file)) visit(file);

for (const problem of problems) console.error(`check_imports: ${problem}`);
if (problems.length > 0) process.exit(1);
console.log(
  `check_imports: ${tsFiles.length} files in ts/, no import circle; ts/ and cli/ import downwards only`,
);
