// The segment fuzzer (issue 14): corrupted segments under Deno, Node and Bun,
// each case in a child process, every finding reported with its seed.
//
//   node scripts/fuzz.mjs [--cases N] [--seed S] [--runtime deno,node,bun] [--jobs J]
//                         [--batch B] [--case-timeout MS] [--no-build] [--json] [--prefix /NAME]
//   node scripts/fuzz.mjs --replay SEED [--runtime deno]     one case, verbosely
//
// --cases N     cases in all (default 300), dealt round-robin to the runtimes: case S+i runs on
//               runtime i mod R, so every seed names one (seed, runtime) pair. The long budget:
//               node scripts/fuzz.mjs --cases 10000 --jobs 2   (the summary prints cases/s).
// --seed S      first seed (default: from the clock; printed, so a run can be repeated).
// --jobs J      child processes at once (default 2). --batch B: cases per child (default 25).
// --case-timeout MS  a case that runs longer is a hang: the child is killed (default 20000).
// --json        print only the summary, as one JSON line (test/fuzz.test.ts reads it).
// --no-build    skip `node scripts/build.mjs ts` (Node runs the fixtures from dist/, and this
//               script spawns children through dist/test/helpers.js).
//
// Throughput on this shared 2-core machine, --jobs 2, the fixed core: 8-11 cases/s over the
// three runtimes (4-6 cases/s per child: deno, node and bun alike). 10,000 cases took 20.7
// minutes at a load average of 8-10 (476,732 operations); every case that hangs costs its
// 20 s timeout on top. test/fuzz.test.ts runs 40 cases per runtime (about 5 s).
//
// A case (test/fixtures/fuzz_case.ts) builds a segment holding one object of
// every kind, does legitimate work, mutates the header, the directory or an
// object's words (in the file before open, through the mapping after open, or
// both), runs the API on every object, and checks each call: a WshmError with a
// code or success; within its timeout plus one 100 ms liveness slice (+50 ms of
// noise); not one byte of wasm memory changed outside the core's page-0 scratch
// and the object addressed; every offset handed back inside that object.
// Findings: crashes (a child killed by a signal or exiting early), hangs (case
// timeout), calls over time (re-run once; counted only if slow again), uncoded
// errors, bytes changed outside, offsets outside, objects created over others.
// Exit status 1 if any. Not fuzzed, by design: the file's size while mapped (a
// peer that shrinks it gets every mapper SIGBUS; docs/guide.md says so).
//
// Segments are named PREFIX-SEED (default prefix /wshm-fuzz-PID) and removed,
// also when the script is interrupted; children are killed by their pid.
// WSHM_FUZZ_SELFTEST="crash@SEED,hang@SEED,stray@SEED,uncoded@SEED,slow@SEED"
// makes those cases fail on purpose, to test this harness (test/fuzz.test.ts).

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const flag = (name) => argv.includes(name);

const replay = option("--replay", undefined);
const runtimes = option("--runtime", replay === undefined ? "deno,node,bun" : "deno").split(",");
const cases = Number(option("--cases", "300"));
const firstSeed = Number(option("--seed", String((Date.now() * 7919) >>> 0))) >>> 0;
const jobs = Math.max(1, Number(option("--jobs", "2")));
const batchSize = Math.max(1, Number(option("--batch", "25")));
const caseTimeoutMs = Number(option("--case-timeout", "20000"));
const prefix = option("--prefix", `/wshm-fuzz-${process.pid}`);
const json = flag("--json");

for (const rt of runtimes) {
  if (!["deno", "node", "bun"].includes(rt)) {
    console.error(`fuzz: unknown runtime ${rt} (deno, node or bun)`);
    process.exit(2);
  }
}

// Node runs the tsc output, and this script spawns children through the test helpers in dist/.
if (!flag("--no-build")) {
  execFileSync(process.execPath, [join(root, "scripts", "build.mjs"), "ts"], { cwd: root, stdio: "inherit" });
}
const helpersPath = join(root, "dist", "test", "helpers.js");
if (!existsSync(helpersPath)) {
  console.error(`fuzz: ${helpersPath} is missing: run without --no-build (or npx tsc -p .)`);
  process.exit(2);
}
const { fixtureCommand, startProcess } = await import(pathToFileURL(helpersPath).href);

const children = new Set();

/** Removes every segment this run named (children remove their own; a killed one cannot). */
function cleanup() {
  const base = prefix.slice(1);
  for (const f of readdirSync("/dev/shm")) {
    if (f.startsWith(`${base}-`)) {
      try {
        unlinkSync(`/dev/shm/${f}`);
      } catch {
        // Removed meanwhile.
      }
    }
  }
}

function removeSegment(seed) {
  try {
    unlinkSync(`/dev/shm${prefix}-${seed}`);
  } catch {
    // Never created, or removed.
  }
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const child of children) child.kill("SIGKILL");
    cleanup();
    console.error(`fuzz: interrupted (${signal}); children killed, segments removed`);
    process.exit(130);
  });
}

// Whatever goes wrong in this script itself, no child and no segment may outlive it.
process.on("uncaughtException", (error) => {
  for (const child of children) child.kill("SIGKILL");
  cleanup();
  console.error(`fuzz: ${error?.stack ?? error}`);
  process.exit(2);
});

/** Waits while a runtime's binary is missing (an `npm install` running beside us replaces it). */
async function runtimePresent(command) {
  for (let i = 0; i < 60 && command.startsWith("/") && !existsSync(command); i++) {
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (command.startsWith("/") && !existsSync(command)) throw new Error(`${command} is missing`);
}

/**
 * Runs `seeds` under `rt` in one child; returns a record per seed that ran
 * to an end (done, crash or hang) and the seeds left over after a crash or hang.
 */
async function runBatch(rt, seeds, verbose, onLine) {
  const [command, args] = fixtureCommand(rt, "fuzz_child", [
    prefix,
    seeds.join(","),
    ...(verbose ? ["--verbose"] : []),
  ]);
  await runtimePresent(command);
  const started = Date.now();
  const child = startProcess(command, args, {
    label: `fuzz child (${rt})`,
    timeoutMs: caseTimeoutMs * (seeds.length + 1) + 60_000,
  });
  children.add(child);
  let exited = false;
  const done = child.done.then((run) => {
    exited = true;
    return run;
  });
  const records = [];
  let printed = 0;
  const flush = (stdout) => {
    if (onLine === undefined) return;
    const lines = stdout.split("\n");
    for (; printed < lines.length - 1; printed++) onLine(lines[printed]);
  };
  let i = 0;
  let broken = false;
  for (; i < seeds.length; i++) {
    const seed = seeds[i];
    try {
      const line = await child.line(new RegExp(`^done ${seed} `), caseTimeoutMs);
      flush(await child.output(/[^]*/, 1000));
      records.push({ seed, rt, result: JSON.parse(line.slice(`done ${seed} `.length)) });
    } catch {
      const atDeadline = await child.output(/[^]*/, 1000).catch(() => "");
      await Promise.race([done, new Promise((r) => setTimeout(r, 500))]);
      const hung = !exited;
      if (hung) child.kill("SIGKILL");
      const run = await done;
      flush(run.stdout + "\n");
      const last = (hung ? atDeadline : run.stdout).split("\n").filter((l) => l.startsWith(`op ${seed} `))
        .pop();
      const op = last === undefined ? "(before its first operation)" : last.split(" ").slice(3).join(" ");
      const detail = hung
        ? `no result within ${caseTimeoutMs} ms; last operation started: ${op}`
        : `exited with ${run.signal ?? `code ${run.code}`} during ${op}: ${
          run.stderr.trim().split("\n").slice(-3).join(" | ")
        }`;
      const mutations = run.stdout.split("\n").filter((l) => l.startsWith(`mut ${seed} `))
        .map((l) => l.split(" ").slice(2).join(" "));
      records.push({ seed, rt, result: null, kind: hung ? "hang" : "crash", detail, mutations });
      broken = true;
      break;
    }
  }
  if (broken) {
    // It died or was killed in case i, and may have started the next one already.
    for (const seed of seeds.slice(i, i + 2)) removeSegment(seed);
    i++;
  } else {
    await child.line(/^batch done$/, 10_000).catch(() => {});
    await done;
  }
  children.delete(child);
  return { records, rest: seeds.slice(i), ms: Date.now() - started };
}

async function replayOne() {
  const seed = Number(replay) >>> 0;
  const rt = runtimes[0];
  console.log(`fuzz: replaying seed ${seed} under ${rt}`);
  const { records } = await runBatch(rt, [seed], true, (line) => {
    if (line.startsWith("log ")) console.log(line.split(" ").slice(2).join(" "));
    else if (line.startsWith("mut ")) console.log(`mutate ${line.split(" ").slice(2).join(" ")}`);
    else if (line.startsWith("case ") || line.startsWith("done ") || line === "batch done") return;
    else if (!line.startsWith("op ")) console.log(line);
  });
  cleanup();
  const r = records[0];
  if (r === undefined || r.result === null) {
    console.log(`${r?.kind ?? "crash"}: ${r?.detail ?? "no result"}`);
    process.exitCode = 1;
    return;
  }
  console.log(
    `mode ${r.result.mode}; ${r.result.ops} operations; outcomes ${JSON.stringify(r.result.outcomes)}`,
  );
  for (const f of r.result.findings) console.log(`FINDING ${f.kind} ${f.op}: ${f.detail}`);
  console.log(r.result.findings.length === 0 ? "no findings" : `${r.result.findings.length} finding(s)`);
  process.exitCode = r.result.findings.length === 0 ? 0 : 1;
}

async function fuzz() {
  const started = Date.now();
  const queue = [];
  for (let j = 0; j < runtimes.length; j++) {
    const seeds = [];
    for (let i = j; i < cases; i += runtimes.length) seeds.push((firstSeed + i) >>> 0);
    for (let b = 0; b < seeds.length; b += batchSize) {
      queue.push([runtimes[j], seeds.slice(b, b + batchSize)]);
    }
  }
  // Interleave the runtimes, so that each gets a fair share of a noisy machine.
  queue.sort((a, b) => a[1][0] - b[1][0]);
  if (!json) {
    console.log(`fuzz: ${cases} cases from seed ${firstSeed} on ${runtimes.join(", ")}, ${jobs} job(s)`);
  }
  const records = [];
  const busy = Object.fromEntries(runtimes.map((rt) => [rt, 0]));
  let finished = 0;
  const worker = async () => {
    while (queue.length > 0) {
      const [rt, seeds] = queue.shift();
      const { records: got, rest, ms } = await runBatch(rt, seeds);
      busy[rt] += ms;
      records.push(...got);
      finished += got.length;
      if (rest.length > 0) queue.unshift([rt, rest]);
      if (!json && process.stdout.isTTY) process.stdout.write(`\r${finished}/${cases} cases`);
      else if (
        !json && Math.floor(finished * 10 / cases) > Math.floor((finished - got.length) * 10 / cases)
      ) {
        const rate = finished / ((Date.now() - started) / 1000);
        console.log(`  ${finished}/${cases} cases, ${rate.toFixed(1)}/s`);
      }
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  if (!json && process.stdout.isTTY) process.stdout.write("\r");

  // Slow calls on a shared machine can be noise: run each such case again, count it only if slow again.
  const slowOnly = (r) =>
    r.result !== null && r.result.findings.length > 0 && r.result.findings.every((f) => f.kind === "slow");
  const unconfirmed = [];
  for (const r of records.filter(slowOnly)) {
    const { records: again } = await runBatch(r.rt, [r.seed]);
    const still = again[0]?.result === null || again[0]?.result?.findings.some((f) => f.kind === "slow");
    if (!still) {
      unconfirmed.push(r);
      r.result.findings = [];
    }
  }
  cleanup();
  report(records, unconfirmed, busy, Date.now() - started);
}

function report(records, unconfirmed, busy, ms) {
  const count = { crash: 0, hang: 0, slow: 0, uncoded: 0, outside: 0, returned: 0, overlap: 0, internal: 0 };
  const findings = [];
  let operations = 0;
  const outcomes = {};
  const perRuntime = Object.fromEntries(runtimes.map((rt) => [rt, 0]));
  for (const r of records) {
    perRuntime[r.rt]++;
    if (r.result === null) {
      count[r.kind]++;
      findings.push({
        seed: r.seed,
        runtime: r.rt,
        kind: r.kind,
        op: "",
        detail: r.detail,
        mutations: r.mutations,
      });
      continue;
    }
    operations += r.result.ops;
    for (const [outcome, n] of Object.entries(r.result.outcomes)) {
      outcomes[outcome] = (outcomes[outcome] ?? 0) + n;
    }
    for (const f of r.result.findings) {
      count[f.kind]++;
      findings.push({
        seed: r.seed,
        runtime: r.rt,
        mode: r.result.mode,
        ...f,
        mutations: r.result.mutations,
      });
    }
  }
  const seconds = ms / 1000;
  const rates = Object.fromEntries(
    runtimes.map((rt) => [rt, busy[rt] > 0 ? perRuntime[rt] / (busy[rt] / 1000) : 0]),
  );
  const summary = {
    seed: firstSeed,
    cases: records.length,
    operations,
    seconds,
    casesPerSecond: records.length / seconds,
    casesPerSecondPerJob: rates,
    crashes: count.crash,
    hangs: count.hang,
    callsOverTimeout: count.slow,
    uncodedErrors: count.uncoded,
    bytesChangedOutside: count.outside,
    offsetsOutside: count.returned,
    overlappingCreations: count.overlap,
    fuzzerErrors: count.internal,
    unconfirmedSlow: unconfirmed.map((r) => `${r.seed}/${r.rt}`),
    outcomes,
    findings,
  };
  const total = findings.length;
  if (json) {
    console.log(JSON.stringify(summary));
  } else {
    const perJob = runtimes.map((rt) => `${rt} ${rates[rt].toFixed(1)}/s`).join(", ");
    console.log(
      `fuzz: ${records.length} cases (${runtimes.map((rt) => `${rt} ${perRuntime[rt]}`).join(", ")}), ` +
        `${operations.toLocaleString("en")} operations in ${seconds.toFixed(1)} s: ` +
        `${summary.casesPerSecond.toFixed(1)} cases/s over ${jobs} job(s) (one child: ${perJob})`,
    );
    console.log(
      `crashes ${count.crash} · hangs ${count.hang} · calls over timeout ${count.slow} · uncoded errors ${count.uncoded}` +
        ` · bytes changed outside the object ${count.outside} · offsets outside the object ${count.returned}` +
        ` · objects created over others ${count.overlap} · fuzzer errors ${count.internal}`,
    );
    const byCount = Object.entries(outcomes).sort((a, b) => b[1] - a[1]);
    console.log(`outcomes: ${byCount.map(([o, n]) => `${o} ${n}`).join(", ")}`);
    if (unconfirmed.length > 0) {
      console.log(`slow once, not on a re-run (not counted): ${summary.unconfirmedSlow.join(", ")}`);
    }
    const shown = new Set();
    for (const f of findings) {
      console.log(
        `  seed ${f.seed} (${f.runtime}${f.mode ? `, ${f.mode} open` : ""}): ${f.kind}${
          f.op ? ` ${f.op}` : ""
        }: ${f.detail}`,
      );
      if (f.mutations.length > 0 && !shown.has(`${f.seed}/${f.runtime}`)) {
        shown.add(`${f.seed}/${f.runtime}`);
        console.log(`      mutations: ${f.mutations.join("; ")}`);
      }
    }
    if (total > 0) {
      const first = findings[0];
      console.log(`replay one: node scripts/fuzz.mjs --replay ${first.seed} --runtime ${first.runtime}`);
    }
  }
  process.exitCode = total > 0 ? 1 : 0;
}

try {
  if (replay !== undefined) await replayOne();
  else await fuzz();
} finally {
  for (const child of children) child.kill("SIGKILL");
  cleanup();
}
