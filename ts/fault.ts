/**
 * Deterministic fault injection, for tests: stops this process at a chosen
 * moment of the core's protocol, right after one of its four host calls
 * (`waitUs`, `wake`, `clockUs`, `processAlive`) returned a chosen answer, so that
 * a test can make other processes act in exactly that window and then let
 * this one go on. It replays, every time, races that random scheduling
 * hits rarely.
 *
 * Off unless the environment variable `WSHM_FAULT` is set (Deno: and readable,
 * `--allow-env`); then `instantiateCore` wraps the host imports. When it is
 * off the imports are exactly the plain ones, chosen once at instantiation,
 * so there is no cost at all.
 *
 * `WSHM_FAULT` is JSON: one fault or an array of them, each firing once
 * (unless it says `repeat`).
 *
 * ```text
 * {"call":"processAlive", "when":"dead", "pid":1234, "action":"pause", "gate":"/tmp/x/gate"}
 *
 * call       processAlive | waitUs | wake | clockUs     which host import
 * when       any (default) | dead | alive               processAlive's answer
 *            | woken | notEqual | timedOut              waitUs's answer
 * pid        processAlive only: match only calls about this pid
 * skip       let this many matching calls pass first (default 0)
 * repeat     true: act on every matching call after those, not just the
 *            first (a repeated pause waits only until its gate exists once)
 * action     pause (default) | delay | kill
 * gate       pause: a file path. The process writes "<gate>.paused" (JSON:
 *            pid, call, args, result; written whole, then renamed into
 *            place) and blocks until the file "<gate>" exists
 * timeoutMs  pause: go on anyway after this long, saying so on stderr
 *            (default 30000), so a forgotten gate never hangs anything;
 *            delay: how long to sleep (default 100)
 * ```
 *
 * `kill` sends this process SIGKILL right there: a crash at an exact point.
 *
 * @example
 * ```ts
 * // In a test: start a fixture with
 * //   WSHM_FAULT='{"call":"processAlive","when":"dead","pid":4242,"gate":"/tmp/t/gate"}'
 * // wait until /tmp/t/gate.paused exists, make other processes act, then
 * //   writeFileSync("/tmp/t/gate", "");
 * import { parseFaults } from "./fault.ts";
 * const [fault] = parseFaults('{"call":"waitUs","when":"timedOut","action":"delay","timeoutMs":50}');
 * console.log(fault.action); // "delay"
 * ```
 *
 * @module
 */

import { existsSync, renameSync, writeFileSync } from "node:fs";
import process from "node:process";
import { readEnvironment } from "./platform/env.ts";

/** The environment variable that switches fault injection on. */
export const FAULT_VARIABLE = "WSHM_FAULT";

/** The host imports of the core, as `instantiateCore` builds them (a type, so that it is a WebAssembly.ModuleImports). */
export type HostImports = {
  waitUs(address: number, expected: number, timeoutUs: number): number;
  wake(address: number, count: number): number;
  clockUs(): number;
  processAlive(pid: number, startTicks: bigint): number;
};

/** One fault of `WSHM_FAULT`, with its defaults filled in. */
export interface Fault {
  call: keyof HostImports;
  when: "any" | "dead" | "alive" | "woken" | "notEqual" | "timedOut";
  pid?: number;
  skip: number;
  repeat: boolean;
  action: "pause" | "delay" | "kill";
  gate?: string;
  timeoutMs: number;
}

const CALLS = ["processAlive", "waitUs", "wake", "clockUs"];
const ANSWERS: Record<string, string[]> = {
  processAlive: ["any", "dead", "alive"],
  waitUs: ["any", "woken", "notEqual", "timedOut"],
  wake: ["any"],
  clockUs: ["any"],
};
const ACTIONS = ["pause", "delay", "kill"];
/** host.waitUs's results (0 woken, 1 not equal, 2 timed out) by name. */
const WAIT_RESULTS: Record<string, number> = { woken: 0, notEqual: 1, timedOut: 2 };

function invalid(text: string, why: string): never {
  throw new TypeError(`${FAULT_VARIABLE} is not a valid fault (${why}): ${text}`);
}

/** Parses the JSON of `WSHM_FAULT`; throws a TypeError that says what is wrong. */
export function parseFaults(text: string): Fault[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    invalid(text, "not JSON");
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  return list.map((item) => {
    if (typeof item !== "object" || item === null) invalid(text, "not an object");
    const f = item as Record<string, unknown>;
    const call = f.call as string;
    if (!CALLS.includes(call)) invalid(text, `call must be one of ${CALLS.join(", ")}`);
    const when = (f.when ?? "any") as string;
    if (!ANSWERS[call].includes(when)) invalid(text, `when for ${call} must be one of ${ANSWERS[call]}`);
    const action = (f.action ?? "pause") as string;
    if (!ACTIONS.includes(action)) invalid(text, `action must be one of ${ACTIONS.join(", ")}`);
    if (action === "pause" && typeof f.gate !== "string") invalid(text, "a pause needs a gate path");
    if (f.pid !== undefined && (call !== "processAlive" || !Number.isInteger(f.pid))) {
      invalid(text, "pid is an integer, for processAlive only");
    }
    const skip = f.skip ?? 0;
    if (!Number.isInteger(skip) || (skip as number) < 0) invalid(text, "skip is a count");
    if (f.repeat !== undefined && typeof f.repeat !== "boolean") invalid(text, "repeat is true or false");
    const timeoutMs = f.timeoutMs ?? (action === "delay" ? 100 : 30_000);
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0)) invalid(text, "timeoutMs is a number of ms");
    return {
      call: call as Fault["call"],
      when: when as Fault["when"],
      pid: f.pid as number | undefined,
      skip: skip as number,
      repeat: f.repeat === true,
      action: action as Fault["action"],
      gate: f.gate as string | undefined,
      timeoutMs,
    };
  });
}

let configured: Fault[] | null | undefined;

/** The faults `WSHM_FAULT` asks for, read once per process; undefined when it is unset or unreadable. */
export function configuredFaults(): Fault[] | undefined {
  if (configured === undefined) {
    const text = readEnvironment(FAULT_VARIABLE);
    configured = text === undefined || text === "" ? null : parseFaults(text);
  }
  return configured ?? undefined;
}

function matches(fault: Fault, args: readonly unknown[], result: number): boolean {
  if (fault.when !== "any") {
    if (fault.call === "processAlive" && result !== (fault.when === "alive" ? 1 : 0)) return false;
    if (fault.call === "waitUs" && result !== WAIT_RESULTS[fault.when]) return false;
  }
  return fault.pid === undefined || args[0] === fault.pid;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

function act(fault: Fault, pid: number, args: readonly unknown[], result: number): void {
  if (fault.action === "kill") process.kill(pid, "SIGKILL");
  if (fault.action === "delay") return sleep(fault.timeoutMs);
  const gate = fault.gate!;
  const marker = JSON.stringify({
    pid,
    call: fault.call,
    args: args.map((a) => (typeof a === "bigint" ? a.toString() : a)),
    result,
  });
  writeFileSync(`${gate}.paused.${pid}`, marker + "\n");
  renameSync(`${gate}.paused.${pid}`, `${gate}.paused`);
  const deadline = performance.now() + fault.timeoutMs;
  while (!existsSync(gate)) {
    if (performance.now() > deadline) {
      process.stderr.write(`wshm fault: gate ${gate} not opened within ${fault.timeoutMs} ms; going on\n`);
      return;
    }
    sleep(2);
  }
}

/** Matching calls each fault still lets pass, across every instance of the process (-1: fired; a repeating fault stays at 0). */
const remaining = new WeakMap<Fault, number>();

/**
 * Wraps `host` so that each of `faults` acts once in this process (every
 * time, if it repeats), right after the first call that matches it (past
 * its `skip`) has returned, before the core sees the answer. `pid` is this
 * process's.
 */
export function withFaults(host: HostImports, faults: readonly Fault[], pid: number): HostImports {
  for (const fault of faults) if (!remaining.has(fault)) remaining.set(fault, fault.skip);
  const after = (call: keyof HostImports, args: readonly unknown[], result: number): number => {
    for (const fault of faults) {
      const left = remaining.get(fault)!;
      if (fault.call !== call || left < 0 || !matches(fault, args, result)) continue;
      if (left > 0 || !fault.repeat) remaining.set(fault, left - 1);
      if (left === 0) act(fault, pid, args, result);
    }
    return result;
  };
  return {
    waitUs: (address, expected, timeoutUs) =>
      after("waitUs", [address, expected, timeoutUs], host.waitUs(address, expected, timeoutUs)),
    wake: (address, count) => after("wake", [address, count], host.wake(address, count)),
    clockUs: () => after("clockUs", [], host.clockUs()),
    processAlive: (p, startTicks) => after("processAlive", [p, startTicks], host.processAlive(p, startTicks)),
  };
}
