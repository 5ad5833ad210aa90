/**
 * Loads the core (`core.wasm`, found next to this package, never relative to
 * the working directory) and instantiates it over one segment's memory, with
 * the host imports bound to that memory's real address.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import type { Posix } from "./platform/mod.ts";
import { configuredFaults, type HostImports, withFaults } from "./fault.ts";

/** The constants of the core read into plain numbers, once per process. */
export type CoreConstants = Readonly<Record<string, number>>;

/**
 * The core's exports, typed loosely: functions over segment offsets taking
 * and returning numbers (bigint for u64), and layout constants as globals.
 */
// deno-lint-ignore no-explicit-any
export type Core = Record<string, any>;

let compiled: WebAssembly.Module | undefined;

/** Where the core lives relative to this module: `build/core.wasm` beside `ts/` (or `dist/ts/`). */
export const coreUrl: URL = new URL("../build/core.wasm", import.meta.url);

/** The compiled core, compiled once per process. */
export function coreModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(readFileSync(coreUrl));
  return compiled;
}

let constants: CoreConstants | undefined;

/** The layout and status constants the core exports, read from a throwaway instance. */
export function coreConstants(): CoreConstants {
  if (constants !== undefined) return constants;
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const unused = () => {
    throw new Error("not callable while reading constants");
  };
  const instance = new WebAssembly.Instance(coreModule(), {
    env: { memory },
    host: { wait: unused, wake: unused, nowMs: unused, processAlive: unused },
  });
  const values: Record<string, number> = {};
  for (const [name, value] of Object.entries(instance.exports)) {
    if (value instanceof WebAssembly.Global) values[name] = Number(value.value);
  }
  constants = Object.freeze(values);
  return constants;
}

/**
 * Instantiates the core over `memory`, whose first byte sits at the real
 * address `base`. The imports turn wasm addresses into real ones for futex(2).
 */
export function instantiateCore(memory: WebAssembly.Memory, base: number, posix: Posix): Core {
  const host: HostImports = {
    wait: (address: number, expected: number, timeoutMs: number) =>
      posix.futexWait(base + address, expected, timeoutMs),
    wake: (address: number, count: number) => posix.futexWake(base + address, count),
    nowMs: () => performance.now(),
    processAlive: (pid: number, startTicks: bigint) => posix.processAlive(pid, startTicks) ? 1 : 0,
  };
  // Tests only (WSHM_FAULT, see fault.ts); otherwise the plain imports above, untouched.
  const faults = configuredFaults();
  const instance = new WebAssembly.Instance(coreModule(), {
    env: { memory },
    host: faults === undefined ? host : withFaults(host, faults, posix.pid),
  });
  return instance.exports as unknown as Core;
}
