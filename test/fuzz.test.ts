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

/** Runs scripts/fuzz.mjs with `extra` arguments on this runtime; returns its JSON summary. */
async function fuzz(extra: string[], env: Record<string, string> = {}): Promise<Summary> {
  const prefix = uniqueName("fuzz");
  const args = [
    join(root, "scripts", "fuzz.mjs"),
    "--no-build",
    "--json",
    "--runtime",
    runtime,
    "--prefix",
    prefix,
  ];
  const run = await startProcess("node", [...args, ...extra], { label: "fuzz", env, timeoutMs: 600_000 })
    .done;
  const last = run.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(
      `scripts/fuzz.mjs printed no summary (exit ${run.code ?? run.signal}):\n${run.stdout}\n${run.stderr}`,
    );
  }
}

interface Summary {
  cases: number;
  operations: number;
  findings: Finding[];
}

test("the harness sees a crash, a hang, a stray write, an uncoded error and a slow call, each with its seed", async () => {
  const summary = await fuzz(
    ["--cases", "6", "--seed", "1", "--jobs", "1", "--batch", "6", "--case-timeout", "3000"],
    { WSHM_FUZZ_SELFTEST: "crash@1,hang@2,stray@3,uncoded@4,slow@5" },
  );
  assert.is(summary.cases, 6, "every case ran to an end");
  const seen = (seed: number, kind: string) =>
    summary.findings.some((f) => f.seed === seed && f.kind === kind);
  const expected: Array<[number, string]> = [[1, "crash"], [2, "hang"], [3, "outside"], [4, "uncoded"], [
    5,
    "slow",
  ]];
  for (const [seed, kind] of expected) {
    assert.ok(seen(seed, kind), `seed ${seed}: no ${kind} finding in ${JSON.stringify(summary.findings)}`);
  }
  assert.not.ok(summary.findings.some((f) => f.seed === 6), "seed 6 had nothing injected and nothing found");
});

test(`${CASES} corrupted segments from seed ${SEED}: no crash, hang, late call, uncoded error or stray write`, async () => {
  const summary = await fuzz([
    ...["--cases", String(CASES), "--seed", String(SEED)],
    ...["--jobs", "2", "--batch", String(Math.ceil(CASES / 2))],
  ]);
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
