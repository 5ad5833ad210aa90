// Runs one benchmark script under Deno, Node and Bun in alternation (deno node
// bun deno node bun ...), collects the JSON lines each run prints, and prints
// the median of each case per runtime. Alternating whole runs spreads the
// machine's noise over the runtimes instead of letting it land on one.
//
//   node bench/across_runtimes.mjs primitives [--repeat 3] [-- extra args]

import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const bench = args[0];
const repeat = Number(args[args.indexOf("--repeat") + 1] || 3);
const extra = args.includes("--") ? args.slice(args.indexOf("--") + 1) : [];
if (!bench) {
  console.error("usage: node bench/across_runtimes.mjs BENCH [--repeat N] [-- args]");
  process.exit(2);
}

const bin = (name) => join(root, "node_modules", ".bin", name);
const commands = {
  deno: [bin("deno"), ["run", "-A", join(root, "bench", `${bench}.ts`)]],
  node: [process.execPath, [join(root, "dist", "bench", `${bench}.js`)]],
  bun: [bin("bun"), ["run", join(root, "bench", `${bench}.ts`)]],
};

const results = new Map(); // "runtime\tcase" -> medians of each run
for (let r = 0; r < repeat; r++) {
  for (const [runtime, [command, argv]] of Object.entries(commands)) {
    const out = execFileSync(command, [...argv, "--json", ...extra], { cwd: root, encoding: "utf8" });
    for (const line of out.split("\n")) {
      if (!line.startsWith("{")) continue;
      const row = JSON.parse(line);
      const key = `${runtime}\t${row.case}\t${row.unit}`;
      if (!results.has(key)) results.set(key, []);
      results.get(key).push(row.median);
    }
  }
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log(
  `${bench}: median of ${repeat} alternating runs per runtime (each run itself a median of interleaved rounds)`,
);
for (const [key, values] of results) {
  const [runtime, label, unit] = key.split("\t");
  console.log(
    `${runtime.padEnd(5)} ${label.padEnd(42)} ${median(values).toFixed(1).padStart(9)} ${unit}   runs: ${
      values.map((v) => v.toFixed(1)).join(" ")
    }`,
  );
}
