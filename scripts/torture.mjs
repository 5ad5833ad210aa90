// kill -9 torture (issue 14): for each mode, a population of worker processes
// of random runtimes (servers and clients of a classic or a many-client
// channel, the producer and the consumer of a ring, producers and consumers
// of a queue, holders of a mutex) works on one segment while this script
// SIGKILLs one of them at random every few hundred milliseconds and starts a
// replacement. The workers (test/fixtures/torture_*.ts) check everything they
// receive and count what they see in the segment itself, so that it survives
// their death:
//
//   channel  every answer is the answer to its own request (request id and
//            checksum; the server answers a function of the bytes it got),
//            else a coded error (PeerDied, Timeout, NoServer...)
//   ring     every record whole, each the successor of the one before
//            (per producer epoch, in order, none twice, none skipped), and
//            after a consumer's death the next starts right after what it released
//   queue    every record whole and delivered at most once; at the end every
//            record whose send returned was delivered, except at most one per
//            consumer killed (a message held by a killed consumer: the loss
//            docs/queues.md allows; counted as "lost (allowed)")
//   mutex    a plain read-modify-write of a counter under the lock plus a
//            per-holder ledger: the counter always equals the ledger's sum; a
//            holder killed mid-section is found by the next one (ownerDied),
//            who finishes its ledger entry; never two holders at once
//
// No progress for --stall seconds is a deadlock: reported with the segment's
// state (`wshm inspect --json`), and the mode ends. At the end of each mode
// every worker has exited or been killed, and `wshm gc` must remove the
// segment (its creator, test/fixtures/torture_setup.ts, exited long ago).
//
//   node scripts/build.mjs          # once: Node runs the workers from dist/
//   node scripts/torture.mjs [--kills 1000] [--modes classic,many,ring,queue,mutex]
//        (classic and many: the channel's classic and many-client modes)
//        [--runtimes deno,node,bun] [--seed N] [--stall 10] [--pause 50-400] [--widen MS]
//
// --pause: milliseconds between kills (a random pick in the range); --widen MS:
// every worker sleeps MS ms after each liveness check that found a peer dead
// (WSHM_FAULT delay, ts/fault.ts), which opens the recovery races wide.
//
// Exit status 1 if anything was wrong, torn, duplicated, lost beyond the
// allowance, deadlocked, crashed, or left behind.
//
// Measured on the shared 2-core machine (load average 4-6 from other work),
// all three runtimes, default --pause: about 230 kills a minute in every mode
// (--kills 30: 48 s for the five modes; --kills 100: 2.2 minutes, 227-243 a
// minute; --kills 200: 4.5 minutes, 208-251 a minute). So 1,000 kills per
// mode take about 4.5 minutes per mode: the full default run (--kills 1000,
// run under nice at load 7-11) took 21.9 minutes, 215-249 kills a minute.
// A kill costs about one process start of its replacement.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Segment } from "../dist/ts/mod.js";
import { fixtureCommand, root, startProcess } from "../dist/test/helpers.js";

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const KILLS = Number(option("kills", "1000"));
const MODES = option("modes", "classic,many,ring,queue,mutex").split(",");
const RUNTIMES = option("runtimes", "deno,node,bun").split(",");
const SEED = Number(option("seed", String(Date.now() % 1_000_000)));
const STALL_S = Number(option("stall", "10"));
const [PAUSE_MIN, PAUSE_MAX] = option("pause", "50-400").split("-").map(Number);
const WIDEN_MS = Number(option("widen", "0"));
// --widen MS: every worker sleeps MS after each processAlive that answers "dead" (ts/fault.ts), so
// that the windows between a liveness check and the recovery that follows it are wide open.
const WORKER_ENV = WIDEN_MS > 0
  ? {
    WSHM_FAULT: JSON.stringify({
      call: "processAlive",
      when: "dead",
      action: "delay",
      timeoutMs: WIDEN_MS,
      repeat: true,
    }),
  }
  : {};

// The shared words of test/fixtures/torture_common.ts.
const PROGRESS = 0, WRONG = 1, TORN = 2, DUP = 3, CODED = 4, STOP = 5, GAP = 6, OWNER_DIED = 7;
const IDS = 4096, SEQS = 16384;

/** The workers of each mode: role, how many at once, fixture. */
const POPULATION = {
  classic: { fixture: "torture_channel", roles: { server: 1, client: 3 } },
  many: { fixture: "torture_channel", roles: { server: 1, client: 3 } },
  ring: { fixture: "torture_ring", roles: { producer: 1, consumer: 1 } },
  queue: { fixture: "torture_queue", roles: { producer: 2, consumer: 2 } },
  mutex: { fixture: "torture_mutex", roles: { holder: 3 } },
};

for (const mode of MODES) if (!(mode in POPULATION)) throw new Error(`unknown mode ${mode}`);
for (const rt of RUNTIMES) {
  if (!["deno", "node", "bun"].includes(rt)) throw new Error(`unknown runtime ${rt}`);
}
if (!existsSync(join(root, "dist", "test", "fixtures", "torture_setup.js"))) {
  throw new Error("dist/ is missing the torture fixtures: run node scripts/build.mjs first");
}

let state = SEED >>> 0 || 1;
/** xorshift32: the kill schedule and the runtimes are replayable from --seed. */
function random() {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const live = new Set();
process.on("SIGINT", () => {
  for (const w of live) w.child.kill("SIGKILL");
  process.exit(130);
});

function start(rt, fixture, args, label, env = {}) {
  const [command, commandArgs] = fixtureCommand(rt, fixture, args);
  return startProcess(command, commandArgs, { label, env, timeoutMs: 6 * 3600_000 });
}

function inspect(name) {
  try {
    return execFileSync(process.execPath, [join(root, "bin", "wshm.mjs"), "inspect", name, "--json"], {
      cwd: root,
      timeout: 20_000,
      encoding: "utf8",
    });
  } catch (error) {
    return `wshm inspect failed: ${error.message}`;
  }
}

async function runMode(mode) {
  const { fixture, roles } = POPULATION[mode];
  const name = `/wshm-torture-${mode}-${process.pid}-${SEED}`;
  const setup = await start("node", "torture_setup", [name, mode], "torture_setup").done;
  if (setup.code !== 0) throw new Error(`torture_setup failed:\n${setup.stdout}${setup.stderr}`);
  const segment = Segment.open(name, { timeoutMs: 5000 });
  const view = (object, length) =>
    new Int32Array(segment.memory.buffer, segment.bytes(object, length * 4).byteOffset, length);
  const t = view("t", 16);
  const ledger = view("ledger", IDS);

  const result = {
    mode,
    kills: 0,
    killedBy: {},
    checked: 0,
    wrong: 0,
    torn: 0,
    dup: 0,
    lost: 0,
    allowedLost: 0,
    coded: 0,
    deadlocks: 0,
    crashes: 0,
    leftover: 0,
    minutes: 0,
    notes: [],
  };
  const workers = new Set();
  let nextId = 1;
  const spawnWorker = (role) => {
    const id = nextId++;
    if (id >= IDS) throw new Error(`${mode}: more than ${IDS} workers; use fewer kills per run`);
    const rt = pick(RUNTIMES);
    const args = fixture === "torture_mutex" ? [name, String(id)] : [name, role, String(id)];
    const child = start(rt, fixture, args, `${fixture} ${role} ${id} (${rt})`, WORKER_ENV);
    const worker = { role, id, rt, child, ready: false, killed: false, exited: false };
    child.line(/^ready$/, 60_000).then(() => (worker.ready = true), () => {});
    child.done.then((run) => {
      worker.exited = true;
      live.delete(worker);
      // Wrong outcomes are counted in the segment; their lines are kept as examples.
      for (const line of run.stdout.split("\n")) {
        const note = line.startsWith("WRONG") || line.startsWith("coded ");
        if (note && result.notes.length < 20) result.notes.push(`${worker.rt} ${line}`);
      }
      const finished = run.code === 0 || /^finished$/m.test(run.stdout);
      if (!worker.killed && !finished && result.notes.length < 20) {
        result.crashes++;
        result.notes.push(
          `crash: ${role} ${id} (${rt}) exited ${run.code ?? run.signal}: ${run.stderr.slice(-600)}`,
        );
      }
    });
    workers.add(worker);
    live.add(worker);
    return worker;
  };
  for (const [role, count] of Object.entries(roles)) for (let i = 0; i < count; i++) spawnWorker(role);

  const started = performance.now();
  let lastProgress = -1;
  let lastChange = performance.now();
  let deadlocked = false;
  const watch = setInterval(() => {
    const progress = Atomics.load(t, PROGRESS);
    if (progress !== lastProgress) {
      lastProgress = progress;
      lastChange = performance.now();
    } else if (!deadlocked && performance.now() - lastChange > STALL_S * 1000) {
      deadlocked = true;
      result.deadlocks++;
      const who = [...workers].filter((w) => !w.exited).map((w) =>
        `${w.role} ${w.id} ${w.rt} pid ${w.child.pid}`
      );
      console.log(`DEADLOCK in ${mode}: no progress for ${STALL_S} s; workers: ${who.join(", ")}`);
      console.log(inspect(name));
    }
  }, 250);
  let report = performance.now();

  while (result.kills < KILLS && !deadlocked) {
    await sleep(PAUSE_MIN + random() * (PAUSE_MAX - PAUSE_MIN));
    // Queue producers finish their records and exit: a successor continues (not a kill).
    for (const w of [...workers]) {
      if (w.exited) {
        workers.delete(w);
        spawnWorker(w.role);
      }
    }
    const candidates = [...workers].filter((w) => w.ready && !w.exited);
    if (candidates.length === 0) continue;
    const victim = pick(candidates);
    victim.killed = true;
    victim.child.kill("SIGKILL");
    await victim.child.done;
    result.kills++;
    result.killedBy[victim.role] = (result.killedBy[victim.role] ?? 0) + 1;
    workers.delete(victim);
    spawnWorker(victim.role);
    if (performance.now() - report > 10_000) {
      report = performance.now();
      console.log(
        `  ${mode}: ${result.kills} kills, ${Atomics.load(t, PROGRESS)} checked, ${
          Atomics.load(t, WRONG) + Atomics.load(t, TORN) + Atomics.load(t, DUP) + Atomics.load(t, GAP)
        } wrong/torn/dup/gap`,
      );
    }
  }
  result.minutes = (performance.now() - started) / 60_000;

  // Wind down: producers and clients stop; consumers drain and stop; then everybody.
  if (!deadlocked) {
    Atomics.store(t, STOP, 1);
    const deadline = performance.now() + 20_000;
    const drains = (w) => w.role === "consumer" || w.role === "server";
    while (performance.now() < deadline && [...workers].some((w) => !w.exited && !drains(w))) await sleep(50);
    while (performance.now() < deadline && [...workers].some((w) => !w.exited && w.role === "consumer")) {
      await sleep(50);
    }
  }
  Atomics.store(t, STOP, 2);
  const last = performance.now() + 5000;
  while (performance.now() < last && [...workers].some((w) => !w.exited)) await sleep(50);
  for (const w of workers) {
    if (!w.exited) {
      w.killed = true;
      w.child.kill("SIGKILL");
    }
  }
  await Promise.all([...workers].map((w) => w.child.done));
  clearInterval(watch);

  result.checked = Atomics.load(t, PROGRESS);
  result.wrong = Atomics.load(t, WRONG);
  result.torn = Atomics.load(t, TORN);
  result.dup = Atomics.load(t, DUP);
  result.coded = Atomics.load(t, CODED);
  result.lost = Atomics.load(t, GAP);
  if (mode === "classic" || mode === "many") {
    const kinds = ["Timeout", "PeerDied", "NoServer", "Exists", "other"];
    result.notes.push(`coded errors: ${kinds.map((k, i) => `${k} ${Atomics.load(t, 11 + i)}`).join(", ")}`);
  }
  if (!deadlocked) finalChecks(mode, segment, t, ledger, view, result);
  segment.close();

  // The creator exited, every worker is dead or gone: gc must remove it.
  try {
    execFileSync(process.execPath, [join(root, "bin", "wshm.mjs"), "gc", name], {
      cwd: root,
      timeout: 30_000,
      stdio: "pipe",
    });
  } catch (error) {
    result.notes.push(`wshm gc failed: ${error.stderr ?? error.message}`);
  }
  if (existsSync(`/dev/shm${name}`)) {
    result.leftover = 1;
    result.notes.push(`wshm gc left ${name} (removed now)`);
    Segment.unlink(name);
  }
  return result;
}

function finalChecks(mode, segment, t, ledger, view, result) {
  if (mode === "ring") {
    // Everything the last producer committed reached the consumer.
    let lastEpoch = 0;
    for (let e = 1; e < IDS; e++) if (Atomics.load(ledger, e) > 0) lastEpoch = e;
    const bytes = segment.bytes("position", 64);
    const released = new BigInt64Array(segment.memory.buffer, bytes.byteOffset, 2)[0];
    const want = lastEpoch === 0 ? 0n : (BigInt(lastEpoch) << 32n) | BigInt(ledger[lastEpoch] - 1);
    if (released !== want) {
      result.lost++;
      result.notes.push(
        `the consumer ended at ${released >> 32n}/${
          released & 0xFFFFFFFFn
        }, the last committed record is ${lastEpoch}/${ledger[lastEpoch] - 1}`,
      );
    }
  } else if (mode === "queue") {
    const seen = view("seen", (IDS * SEQS) / 32);
    let lost = 0, sentInAll = 0;
    for (let id = 1; id < IDS; id++) {
      const sent = Atomics.load(ledger, id);
      sentInAll += sent;
      for (let seq = 0; seq < sent; seq++) {
        const bit = id * SEQS + seq;
        if ((seen[bit >>> 5] & (1 << (bit & 31))) === 0) lost++;
      }
    }
    const consumerKills = result.killedBy.consumer ?? 0;
    result.notes.push(`${sentInAll} sends returned, ${lost} of them never delivered`);
    result.allowedLost = Math.min(lost, consumerKills);
    result.lost = lost - result.allowedLost;
    if (result.lost > 0) {
      result.notes.push(`${lost} records lost, more than the ${consumerKills} consumers killed`);
    }
  } else if (mode === "mutex") {
    const SECTION = 8, COUNTER = 9;
    let sum = 0;
    for (let i = 0; i < IDS; i++) sum += ledger[i];
    const counter = t[COUNTER];
    const finishedByRepair = Atomics.load(t, SECTION) !== 0 && counter === sum + 1;
    if (counter !== sum && !finishedByRepair) {
      result.wrong++;
      result.notes.push(`counter ${counter}, ledger ${sum}`);
    }
    const ownerDied = Atomics.load(t, OWNER_DIED);
    if (ownerDied > (result.killedBy.holder ?? 0)) {
      result.wrong++;
      result.notes.push(`${ownerDied} ownerDied for ${result.killedBy.holder} holders killed`);
    }
    result.notes.push(
      `${ownerDied} takeovers with ownerDied for ${result.killedBy.holder ?? 0} holders killed`,
    );
  }
}

console.log(
  `wshm torture: seed ${SEED}, ${KILLS} kills per mode, modes ${MODES.join(",")}, runtimes ${
    RUNTIMES.join(",")
  }${WIDEN_MS > 0 ? `, windows widened by ${WIDEN_MS} ms` : ""}`,
);
const results = [];
const begun = performance.now();
for (const mode of MODES) {
  console.log(`${mode}...`);
  results.push(await runMode(mode));
}
const minutes = (performance.now() - begun) / 60_000;

const header = [
  "mode",
  "kills",
  "killed (by role)",
  "checked",
  "wrong",
  "torn",
  "duplicated",
  "lost",
  "lost (allowed)",
  "coded errors",
  "crashes",
  "deadlocks",
  "leftover",
  "kills/min",
];
const rows = results.map((r) => [
  r.mode,
  r.kills,
  Object.entries(r.killedBy).map(([role, n]) => `${role} ${n}`).join(", "),
  r.checked,
  r.wrong,
  r.torn,
  r.dup,
  r.lost,
  r.allowedLost,
  r.coded,
  r.crashes,
  r.deadlocks,
  r.leftover,
  (r.kills / Math.max(r.minutes, 1e-9)).toFixed(0),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
const line = (cells) => cells.map((c, i) => String(c).padStart(widths[i])).join("  ");
console.log(line(header));
for (const row of rows) console.log(line(row));
for (const r of results) for (const note of r.notes) console.log(`  ${r.mode}: ${note}`);
console.log(`${minutes.toFixed(1)} minutes in all`);
const bad = results.some((r) => r.wrong + r.torn + r.dup + r.lost + r.deadlocks + r.crashes + r.leftover > 0);
process.exitCode = bad ? 1 : 0;
