// Doc tests, programs: every TypeScript block of README.md and docs/ that
// claims this suite's runtime, and every JSDoc @example of ts/, runs as its own
// process (two at a time); a server block runs here with its clients on every
// runtime they claim. The conventions: docs/contributing.md.

import { suite } from "uvu";
import {
  collect,
  type DocRuntime,
  makeWorkspace,
  pool,
  removeWorkspace,
  runAlone,
  runServer,
} from "./doctest.ts";
import { root, runtime } from "./helpers.ts";

const test = suite(`doc examples (${runtime})`);

// The suite's runtime runs its own variants: Node both as plain JavaScript and as a tsc build.
const mine: DocRuntime[] = runtime === "node" ? ["node", "node-tsc"] : [runtime];
const { programs } = collect(root);
const workspace = makeWorkspace(root);
const context = { root, workspace };

const runs: Array<{ name: string; task: () => Promise<void> }> = [];
for (const program of programs) {
  if (program.kind !== "program") continue;
  for (const rt of program.runtimes.filter((r) => mine.includes(r))) {
    const where = `${program.file}:${program.line}`;
    if (program.role === "server") {
      const clients = program.clients.length;
      runs.push({
        name: `${where} serves ${clients} client block${
          clients === 1 ? "" : "s"
        } on ${rt}, then stops on SIGTERM`,
        task: () => runServer(program, rt, context),
      });
    } else runs.push({ name: `${where} runs on ${rt}`, task: () => runAlone(program, rt, context) });
  }
}
const results = pool(2, runs.map((r) => r.task));
runs.forEach((run, i) => test(run.name, () => results[i]));
test.after(() => removeWorkspace(workspace));

test.run();
