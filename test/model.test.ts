// Model checks of the lock and queue protocols (model/*.pml, see model/README.md): for
// each configuration, spin generates a verifier, gcc compiles it and the
// verifier explores every interleaving of a few processes. Correct models must
// come out with no error; the deliberately broken variants must be caught, so
// that this suite proves it can fail. Without spin or gcc every check is
// registered as skipped, never as passed.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFile, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { join } from "node:path";
import { root, runtime } from "./helpers.ts";

const test = suite(`Promela models (${runtime})`);

interface Check {
  name: string;
  model: "mutex" | "semaphore" | "event" | "rwlock" | "channel" | "ring" | "queue" | "topic" | "blackboard";
  defines: string[];
  /** Search for cycles without progress (pan -DNP, -l) instead of safety. */
  progress?: boolean;
  /** Do not report invalid end states (pan -E): for workloads that may starve by design. */
  ignoreEndStates?: boolean;
  /** undefined: no error allowed; a pattern: pan must report an error that matches it. */
  mustFail?: RegExp;
}

const CHECKS: Check[] = [
  { name: "mutex: mutual exclusion, no lost wake-up, no deadlock", model: "mutex", defines: [] },
  {
    name: "mutex: the same with spurious wake-ups and early slice ends",
    model: "mutex",
    defines: ["-DSPURIOUS", "-DGENS=1"],
  },
  {
    name: "mutex: holders die; no waiter times out forever (no non-progress cycle)",
    model: "mutex",
    defines: ["-DDEATH", "-DGENS=1"],
    progress: true,
  },
  {
    // Holders die: waiters take over with OWNER_DIED and NOT_RECOVERABLE sticks. The run with DEATH alone
    // is contained in this one (SPURIOUS only adds ways out of a sleep) and is left to run by hand.
    name: "mutex: holders die, and slices also end early (live holders get checked)",
    model: "mutex",
    defines: ["-DDEATH", "-DSPURIOUS", "-DGENS=1"],
  },
  {
    name:
      "mutex: a dead holder's pid is reused; the takeover CAS over word and generation steals no live lock",
    model: "mutex",
    defines: ["-DPID_REUSE", "-DDEATH", "-DEARLY_SLICES", "-DMAXDEATHS=1", "-DDIER=3", "-DITER=1"],
  },
  {
    name: "mutex, broken (takeover CAS over the word only, pids reused): spin finds two live holders",
    model: "mutex",
    defines: [
      "-DPID_REUSE",
      "-DDEATH",
      "-DEARLY_SLICES",
      "-DMAXDEATHS=1",
      "-DDIER=3",
      "-DITER=1",
      "-DBROKEN_NO_GENERATION",
    ],
    mustFail: /assertion violated\s+!\(twoHolders\)/,
  },
  {
    name: "mutex, broken (woken waiter drops WAITERS): spin finds the lost wake-up",
    model: "mutex",
    defines: ["-DBROKEN_WOKEN_FORGETS_WAITERS"],
    mustFail: /assertion violated/,
  },
  {
    name: "mutex, broken, without the invariant: spin finds a sleeper stuck at the end",
    model: "mutex",
    defines: ["-DBROKEN_WOKEN_FORGETS_WAITERS", "-DNO_WAKE_INVARIANT"],
    mustFail: /invalid end state/,
  },
  {
    name: "semaphore: conservation and no lost post, mixed waits and posts",
    model: "semaphore",
    defines: ["-DWORKLOAD=0"],
  },
  { name: "semaphore: as a lock (two sleepers at once)", model: "semaphore", defines: ["-DWORKLOAD=1"] },
  {
    name: "semaphore: as a lock, with spurious wake-ups",
    model: "semaphore",
    defines: ["-DWORKLOAD=1", "-DSPURIOUS"],
  },
  { name: "semaphore: hand-off, posts of 1", model: "semaphore", defines: ["-DWORKLOAD=2"] },
  {
    name: "semaphore: hand-off, posts of 2 (one wake of 2)",
    model: "semaphore",
    defines: ["-DWORKLOAD=2", "-DPOST2"],
  },
  {
    name: "semaphore: posts beyond the maximum fail and never push the value over it",
    model: "semaphore",
    defines: ["-DALLOW_OVERFLOW", "-DMAXV=2", "-DPOST2", "-DINIT=1"],
    ignoreEndStates: true,
  },
  {
    name: "semaphore, broken (poster reads sleepers before its CAS): spin finds the lost post",
    model: "semaphore",
    defines: ["-DWORKLOAD=2", "-DBROKEN_STALE_SLEEPERS"],
    mustFail: /assertion violated/,
  },
  {
    name: "semaphore, broken, without the invariant: spin finds a waiter stuck at the end",
    model: "semaphore",
    defines: ["-DWORKLOAD=2", "-DBROKEN_STALE_SLEEPERS", "-DNO_WAKE_INVARIANT"],
    mustFail: /invalid end state/,
  },
  {
    name: "event: no lost wake-up, mixed produce and consume, notify one",
    model: "event",
    defines: ["-DWORKLOAD=0"],
  },
  { name: "event: hand-off to two sleepers, notify one", model: "event", defines: ["-DWORKLOAD=1"] },
  {
    name: "event: hand-off to two sleepers, notify all",
    model: "event",
    defines: ["-DWORKLOAD=1", "-DITER=1", "-DNOTIFY_ALL"],
  },
  {
    name: "event: hand-off, notify one or all, spurious wake-ups",
    model: "event",
    defines: ["-DWORKLOAD=1", "-DITER=1", "-DNOTIFY_MIXED", "-DSPURIOUS"],
  },
  {
    name: "event, broken (waits for a sequence read after the check): spin finds the lost wake-up",
    model: "event",
    defines: ["-DWORKLOAD=1", "-DBROKEN_WAIT_FRESH_SEQUENCE"],
    mustFail: /invalid end state|assertion violated/,
  },
  {
    name: "rwlock: 2 readers + 1 writer, exclusion, no lost wake-up, no deadlock",
    model: "rwlock",
    defines: [],
  },
  {
    name: "rwlock: 1 reader + 2 writers, exclusion, no lost wake-up, no deadlock",
    model: "rwlock",
    defines: ["-DREADERS=1"],
  },
  {
    name: "rwlock: 1 reader + 2 writers, one round, with spurious wake-ups and early slice ends",
    model: "rwlock",
    defines: ["-DREADERS=1", "-DITER=1", "-DSPURIOUS"],
  },
  {
    name: "rwlock: 2 readers + 1 writer, one round, with spurious wake-ups",
    model: "rwlock",
    defines: ["-DITER=1", "-DSPURIOUS"],
  },
  {
    name: "rwlock: the claim race is explored (a reader backs off from a writer it did not see)",
    model: "rwlock",
    defines: ["-DCOVER_BACKOFF"],
    mustFail: /assertion violated\s+!\(coverBackoff\)/,
  },
  {
    name: "rwlock, broken (reader does not re-check the claim): spin finds a reader beside a writer",
    model: "rwlock",
    defines: ["-DBROKEN_NO_RECHECK"],
    mustFail: /assertion violated/,
  },
  {
    name: "rwlock, broken (leaver reads exits before counting down): spin finds the lost wake-up",
    model: "rwlock",
    defines: ["-DBROKEN_EXITS_FIRST"],
    mustFail: /assertion violated/,
  },
  {
    name: "rwlock, broken, without the invariant: spin finds a writer stuck at the end",
    model: "rwlock",
    defines: ["-DBROKEN_EXITS_FIRST", "-DNO_WAKE_INVARIANT"],
    mustFail: /invalid end state/,
  },
  {
    name: "channel: replies match their requests; the server dies, a successor recovers",
    model: "channel",
    defines: [],
  },
  {
    name: "channel: client deaths and deadlines; the state is left for the next client",
    model: "channel",
    defines: ["-DCLIENT_DEATH", "-DGIVE_UP"],
  },
  {
    name: "channel: no client waits for ever while a live server exists (no non-progress cycle)",
    model: "channel",
    defines: ["-DSTUCK_SLICES", "-DCLIENT_DEATH", "-DGIVE_UP"],
    progress: true,
  },
  {
    name: "channel: a successor that serves a request left behind (fresh permit), deaths and deadlines",
    model: "channel",
    defines: ["-DRECOVER_REPOST", "-DCLIENT_DEATH", "-DGIVE_UP"],
  },
  {
    name: "channel, broken (recovery by plain store after the liveness check): spin finds the clash",
    model: "channel",
    defines: ["-DRECOVER_REPOST", "-DBROKEN_PLAIN_RESET"],
    mustFail: /assertion violated/,
  },
  {
    name: "channel, broken, without the buffer invariant: a client gets a reply to another request",
    model: "channel",
    defines: ["-DRECOVER_REPOST", "-DBROKEN_PLAIN_RESET", "-DNO_BUFFER_INVARIANT"],
    mustFail: /assertion violated \(r==\(req\+16\)\)/,
  },
  {
    name: "channel, the old protocol (e64d89b): spin finds a reply to another request",
    model: "channel",
    defines: ["-DOLD_PROTOCOL", "-DNO_BUFFER_INVARIANT"],
    mustFail: /assertion violated \(r==\(req\+16\)\)/,
  },
  {
    name: "channel, broken (RESPONDED is read only with its permit): a client waits for ever",
    model: "channel",
    defines: ["-DSTUCK_SLICES", "-DBROKEN_RESPONDED_NEEDS_PERMIT"],
    progress: true,
    mustFail: /non-progress cycle/,
  },
  {
    name:
      "channel as committed (no fresh permit after a client died before its post): the next one waits for ever",
    model: "channel",
    defines: ["-DSTUCK_SLICES", "-DCLIENT_DEATH", "-DNO_REPOST"],
    progress: true,
    mustFail: /non-progress cycle/,
  },
  {
    name: "ring: records read once, whole, in order; the producer dies, a restart attaches",
    model: "ring",
    defines: [],
  },
  {
    name: "ring: two restarts compete for the role of a dead producer",
    model: "ring",
    defines: ["-DPRODUCERS=3", "-DITER=1"],
  },
  {
    name: "ring, broken (a dead producer cleared by plain store): spin finds a live producer robbed",
    model: "ring",
    defines: ["-DBROKEN_CLEAR_STORE"],
    mustFail: /assertion violated \(PPID==me\)/,
  },
  {
    name: "ring, broken (the same, robbed producers leave): spin finds an uncommitted record read",
    model: "ring",
    defines: ["-DPRODUCERS=3", "-DITER=1", "-DNOT_OWNER_LEAVES", "-DBROKEN_CLEAR_STORE"],
    mustFail: /assertion violated/,
  },
  {
    name: "ring, broken (role taken by plain store): spin finds two producers in one ring",
    model: "ring",
    defines: ["-DPRODUCERS=3", "-DITER=1", "-DNOT_OWNER_LEAVES", "-DBROKEN_ROLE_STORE"],
    mustFail: /assertion violated/,
  },
  {
    name: "queue: exactly once, no slot held twice; a holder dies, consumers recover its slot",
    model: "queue",
    defines: ["-DPRODUCERS=1"],
  },
  {
    name: "queue: both producers stuck behind a dead reader's slot recover it together",
    model: "queue",
    defines: ["-DDEAD_READER_AT_START", "-DITER=1"],
  },
  {
    name: "queue: pid reuse; owners are told apart by their start times",
    model: "queue",
    defines: ["-DPRODUCERS=1", "-DCONSUMERS=1", "-DITER=3", "-DPID_REUSE"],
  },
  {
    name: "queue: pid reuse; no wedge (no non-progress cycle)",
    model: "queue",
    defines: ["-DPRODUCERS=1", "-DCONSUMERS=1", "-DITER=3", "-DPID_REUSE", "-DSTUCK_SLICES"],
    progress: true,
  },
  {
    name: "queue, broken (tombstone without taking the slot by CAS): spin finds a message read twice",
    model: "queue",
    defines: ["-DPRODUCERS=1", "-DBROKEN_PLAIN_TOMBSTONE"],
    mustFail: /assertion violated/,
  },
  {
    name: "queue, broken (dead reader's slot freed by plain store): spin finds a slot taken from its holder",
    model: "queue",
    defines: ["-DDEAD_READER_AT_START", "-DITER=1", "-DBROKEN_PLAIN_FREE"],
    mustFail: /assertion violated/,
  },
  {
    name: "queue, broken (owner checked by pid only, pids reused): spin finds the queue wedged",
    model: "queue",
    defines: [
      "-DPRODUCERS=1",
      "-DCONSUMERS=1",
      "-DITER=3",
      "-DPID_REUSE",
      "-DSTUCK_SLICES",
      "-DBROKEN_PID_ONLY",
    ],
    progress: true,
    mustFail: /non-progress cycle/,
  },
  {
    name: "blackboard: snapshots whole and of one committed batch, one claim holder, writers die mid-batch",
    model: "blackboard",
    defines: [],
  },
  {
    name: "blackboard, broken (the reader does not re-check the stamps): spin finds a torn snapshot",
    model: "blackboard",
    defines: ["-DBROKEN_NO_VERIFY"],
    mustFail: /assertion violated\s+\(\(c\[0\]==c\[1\]\)/,
  },
  {
    name: "blackboard, broken (the generation is stored before the values): spin finds a half-written batch",
    model: "blackboard",
    defines: ["-DBROKEN_PUBLISH_FIRST"],
    mustFail: /assertion violated/,
  },
  {
    name: "blackboard, broken (a dead writer's claim taken by plain store): spin finds two claim holders",
    model: "blackboard",
    defines: ["-DWRITERS=3", "-DBROKEN_CLAIM_STORE"],
    mustFail: /assertion violated\s+\(holders<=1\)/,
  },
  {
    name: "topic: back-pressure; a subscriber dies anywhere and the waiting publisher reaps it",
    model: "topic",
    defines: ["-DNO_LATE", "-DSUB_DEATH"],
  },
  {
    name: "topic: a late subscriber attaches with history while the publisher evicts",
    model: "topic",
    defines: ["-DPRELOAD", "-DMSGS=3"],
  },
  {
    name:
      "topic: the publisher dies anywhere, a successor takes over; no torn message, none twice (attach wakes)",
    model: "topic",
    defines: ["-DNO_LATE", "-DPUB_DEATH"],
  },
  {
    name:
      "topic, broken (as first written: no wake on takeover): a successor moves headWord, subscribers sleep",
    model: "topic",
    defines: ["-DNO_LATE", "-DPUB_DEATH", "-DBROKEN_ATTACH_NO_WAKE"],
    mustFail: /assertion violated 0/,
  },
  {
    name: "topic: the reap races a subscriber attaching into the dead one's record",
    model: "topic",
    defines: ["-DDEAD_SUB_AT_START", "-DMSGS=4"],
  },
  {
    name:
      "topic, broken (as first written: the reap stores the cursor): a new subscriber's message is evicted",
    model: "topic",
    defines: ["-DDEAD_SUB_AT_START", "-DMSGS=4", "-DBROKEN_REAP_CURSOR_STORE"],
    mustFail: /assertion violated.*gcur\[4\]/,
  },
  {
    name: "topic: overwrite, two messages held, laps counted exactly",
    model: "topic",
    defines: ["-DNO_LATE", "-DOVERWRITE", "-DHOLD=2", "-DMSGS=4"],
  },
  {
    name: "topic, broken (as first written: a held lap keeps the cursor): the skipped ones are counted twice",
    model: "topic",
    defines: ["-DNO_LATE", "-DOVERWRITE", "-DHOLD=2", "-DMSGS=4", "-DBROKEN_HELD_LAP_COUNT"],
    mustFail: /assertion violated \(\(MISSED\[r\]\+RECEIVED\[r\]\)==\(e-startAt\[me\]\)\)/,
  },
  {
    name: "topic, broken (as first written: no wake on attach): the publisher sleeps on a cursor that moved",
    model: "topic",
    defines: ["-DDEAD_SUB_AT_START", "-DMSGS=4", "-DHISTORY=1", "-DBROKEN_ATTACH_NO_WAKE"],
    mustFail: /assertion violated 0/,
  },
  {
    name: "topic, broken (release without the stamp re-check): spin finds a torn message accepted",
    model: "topic",
    defines: ["-DNO_LATE", "-DOVERWRITE", "-DBROKEN_NO_RECHECK"],
    mustFail: /assertion violated \(\(\(torn!=0\)/,
  },
  {
    name: "topic, broken (payload written before the stamp is cleared): spin finds a torn message accepted",
    model: "topic",
    defines: ["-DNO_LATE", "-DOVERWRITE", "-DBROKEN_STAMP_AFTER"],
    mustFail: /assertion violated \(\(\(torn!=0\)/,
  },
  {
    name: "topic, broken (reap by plain store): spin finds the subscriber that attached in between erased",
    model: "topic",
    defines: ["-DDEAD_SUB_AT_START", "-DMSGS=4", "-DBROKEN_REAP_STORE"],
    mustFail: /assertion violated/,
  },
];

/** WSHM_MODELS=channel,ring runs only the checks of those models (for work on one model). */
const only = process.env.WSHM_MODELS?.split(",").map((m) => m.trim()).filter((m) => m !== "");
if (only && only.length > 0) CHECKS.splice(0, CHECKS.length, ...CHECKS.filter((c) => only.includes(c.model)));

/** Longest a single spin, gcc or pan run may take before the check fails. */
const STEP_TIMEOUT_MS = 180_000;
/** Checks run at once (each verifier is one busy process). */
const PARALLEL = 2;

function available(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { stdio: "ignore" });
  return result.error === undefined && result.status === 0;
}

const toolsPresent = available("spin", ["-V"]) && available("gcc", ["--version"]);

function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd, timeout: STEP_TIMEOUT_MS, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        // pan exits 0 whether or not it found errors; the output says which.
        if (error && command !== "./pan") {
          reject(new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${output}`));
        } else if (error && error.killed) {
          reject(new Error(`pan did not finish within ${STEP_TIMEOUT_MS} ms\n${output}`));
        } else resolve(output);
      },
    );
  });
}

interface Outcome {
  output: string;
  errors: number;
  states: number;
  depth: number;
  trail: string;
}

async function verify(check: Check, dir: string): Promise<Outcome> {
  for (const file of readdirSync(join(root, "model"))) {
    if (file.endsWith(".pml")) copyFileSync(join(root, "model", file), join(dir, file));
  }
  const model = `${check.model}.pml`;
  await run("spin", [...check.defines, "-a", model], dir);
  await run(
    "gcc",
    ["-w", "-O1", check.progress ? "-DNP" : "-DSAFETY", "-DCOLLAPSE", "-o", "pan", "pan.c"],
    dir,
  );
  const panArgs = ["-m100000"];
  if (check.progress) panArgs.push("-l");
  if (check.ignoreEndStates) panArgs.push("-E");
  const output = await run("./pan", panArgs, dir);
  const number = (re: RegExp) => Number(output.match(re)?.[1] ?? NaN);
  let trail = "";
  if (readdirSync(dir).some((f) => f.endsWith(".trail"))) {
    trail = await run("spin", [...check.defines, "-t", "-p", "-g", model], dir).catch((e) => String(e));
  }
  return {
    output,
    errors: number(/errors: (\d+)/),
    states: number(/(\d+) states, stored/),
    depth: number(/depth reached (\d+)/),
    trail,
  };
}

// Every check starts at once in a small pool; each test awaits its own.
function pool(checks: Check[]): Array<Promise<Outcome>> {
  const results: Array<Promise<Outcome>> = [];
  const slots: Array<Promise<unknown>> = [];
  checks.forEach((check, i) => {
    const previous = slots[i - PARALLEL] ?? Promise.resolve();
    const result = previous.catch(() => {}).then(async () => {
      const dir = mkdtempSync(join(tmpdir(), `wshm-model-${check.model}-`));
      try {
        return await verify(check, dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    result.catch(() => {}); // awaited by its test; until then, not an unhandled rejection
    results.push(result);
    slots.push(result);
  });
  return results;
}

function summary(check: Check, o: Outcome): string {
  return `${check.model} ${
    check.defines.join(" ") || "(defaults)"
  }: ${o.errors} errors, ${o.states} states, depth ${o.depth}`;
}

if (toolsPresent) {
  const outcomes = pool(CHECKS);
  CHECKS.forEach((check, i) => {
    test(check.name, async () => {
      const o = await outcomes[i];
      console.log(`  ${summary(check, o)}`);
      assert.ok(
        Number.isFinite(o.errors) && Number.isFinite(o.states),
        `pan printed no result:\n${o.output}`,
      );
      assert.not.match(o.output, /max search depth too small/, "the search was cut short by the depth limit");
      if (check.mustFail) {
        assert.ok(o.errors > 0, `the broken variant was not caught: ${summary(check, o)}\n${o.output}`);
        assert.match(o.output, check.mustFail, `caught, but not as expected:\n${o.output}`);
      } else {
        const tail = o.trail.split("\n").slice(-60).join("\n");
        assert.is(o.errors, 0, `spin found a violation: ${summary(check, o)}\n${o.output}\n${tail}`);
      }
    });
  });
} else {
  for (const check of CHECKS) test.skip(check.name, () => {});
}

test.run();
