// Picks the backend for the running runtime, once per process.

import { arch, os, runtime, supported } from "./arch.ts";
import { Posix } from "./posix.ts";
import type { Libc } from "./types.ts";
import { WshmError } from "../errors.ts";
import { loadDenoLibc } from "./deno.ts";
import { loadBunLibc } from "./bun.ts";
import { loadNodeLibc } from "./node.ts";
import { createRequire } from "node:module";

export { FUTEX_WAITV_MAX, FutexVector, Posix, WAIT_NOT_EQUAL, WAIT_TIMED_OUT, WAIT_WOKEN } from "./posix.ts";
export type { FileStatus } from "./posix.ts";
export type { RuntimeName } from "./types.ts";

// Loaded synchronously (require for the Node and Bun FFI modules, static
// imports for the backends, which touch nothing runtime-specific until called),
// so that no module of the package needs a top-level await: Node can then
// `require()` the package (require of ES modules, Node 20.19 and later).
function loadLibc(): Libc {
  if (runtime === "deno") return loadDenoLibc();
  const require = createRequire(import.meta.url);
  if (runtime === "bun") return loadBunLibc(require("bun:ffi"));
  const koffi = require("koffi");
  return loadNodeLibc(koffi.default ?? koffi);
}

let loaded: Posix | undefined;

/** The platform of this process, loading its FFI backend the first time; throws `Unsupported` where there is none. */
export function platformSync(): Posix {
  if (loaded !== undefined) return loaded;
  if (!supported) {
    throw new WshmError(
      "Unsupported",
      `wshm supports Linux on x86_64 and aarch64, not ${os} on ${arch}`,
    );
  }
  loaded = new Posix(loadLibc());
  return loaded;
}

/** The platform of this process, as {@linkcode platformSync}, as a promise (rejected where there is none). */
export function platform(): Promise<Posix> {
  try {
    return Promise.resolve(platformSync());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The platform if it has been loaded already (after `await platform()`). */
export function loadedPlatform(): Posix {
  if (loaded === undefined) {
    throw new WshmError("Unsupported", "the wshm platform layer has not been loaded");
  }
  return loaded;
}
