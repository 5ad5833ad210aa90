// A small budget of the segment fuzzer (scripts/fuzz.mjs) on the runtime
// running this suite: every case a corrupted segment in a child process,
// every finding (crash, hang, call over its timeout, uncoded error, byte
// changed outside the object addressed) printed with its seed and the
// command that replays it. The seeds are fixed so that a run is repeatable;
// WSHM_FUZZ_SEED and WSHM_FUZZ_CASES change them (the long budget: see the
// comment at the top of scripts/fuzz.mjs).

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { cleanup, root, runtime, RUNTIMES, startProcess, uniqueName } from "./helpers.ts";

const test = suite(`fuzz (${runtime})`);
test.after.each(cleanup);

const CASES = Number(process.env.WSHM_FUZZ_CASES ?? 40);
// Each runtime gets its own seeds, so that one `npm test` covers three times as many segments.
const SEED = (Number(process.env.WSHM_FUZZ_SEED ?? 14_000) + RUNTIMES.indexOf(runtime) * 100_000) >>> 0;

interface Finding {
  seed: number;
  runtime: string;
  kind: string;
  op: string;
  detail: string;
  mutations: string[];
}

test(`${CASES} corrupted segments from seed ${SEED}: no crash, hang, late call, uncoded error or stray write`, async () => {
  const prefix = uniqueName("fuzz");
  const args = [
    join(root, "scripts", "fuzz.mjs"),
    "--no-build",
    "--json",
    ...["--runtime", runtime, "--cases", String(CASES), "--seed", String(SEED), "--prefix", prefix],
    ...["--jobs", "2", "--batch", String(Math.ceil(CASES / 2))],
  ];
  const run = await startProcess("node", args, { label: "fuzz", timeoutMs: 600_000 }).done;
  const last = run.stdout.trim().split("\n").pop() ?? "";
  let summary: { cases: number; operations: number; findings: Finding[] };
  try {
    summary = JSON.parse(last);
  } catch {
    throw new Error(
      `scripts/fuzz.mjs printed no summary (exit ${run.code ?? run.signal}):\n${run.stdout}\n${run.stderr}`,
    );
  }
  assert.is(summary.cases, CASES, "every case ran to an end");
  if (summary.findings.length > 0) {
    const lines = summary.findings.map((f) =>
      `seed ${f.seed} (${f.runtime}): ${f.kind}${f.op ? ` ${f.op}` : ""}: ${f.detail}\n    mutations: ${
        f.mutations.join("; ")
      }\n    replay: node scripts/fuzz.mjs --replay ${f.seed} --runtime ${f.runtime}`
    );
    assert.unreachable(`${summary.findings.length} finding(s) in ${CASES} cases:\n${lines.join("\n")}`);
  }
});

test.run();
