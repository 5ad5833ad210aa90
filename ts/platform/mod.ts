// Picks the backend for the running runtime, once per process.

import { arch, os, runtime, supported } from "./arch.ts";
import { Posix } from "./posix.ts";
import type { Libc } from "./types.ts";
import { WshmError } from "../errors.ts";

export { FUTEX_WAITV_MAX, FutexVector, Posix, WAIT_NOT_EQUAL, WAIT_TIMED_OUT, WAIT_WOKEN } from "./posix.ts";
export type { FileStatus } from "./posix.ts";
export type { RuntimeName } from "./types.ts";

async function loadLibc(): Promise<Libc> {
  if (runtime === "deno") return (await import("./deno.ts")).loadDenoLibc();
  if (runtime === "bun") {
    const ffi = await import("bun:ffi" as string);
    return (await import("./bun.ts")).loadBunLibc(ffi);
  }
  const koffi = await import("koffi" as string);
  return (await import("./node.ts")).loadNodeLibc(koffi.default ?? koffi);
}

let loading: Promise<Posix> | undefined;
let loaded: Posix | undefined;

/** The platform of this process, loading its FFI backend the first time. */
export function platform(): Promise<Posix> {
  if (!supported) {
    return Promise.reject(
      new WshmError(
        "Unsupported",
        `wshm supports Linux on x86_64 and aarch64, not ${os} on ${arch}`,
      ),
    );
  }
  loading ??= loadLibc().then((libc) => (loaded = new Posix(libc)));
  return loading;
}

/** The platform if it has been loaded already (after `await platform()`). */
export function loadedPlatform(): Posix {
  if (loaded === undefined) {
    throw new WshmError("Unsupported", "the wshm platform layer has not been loaded");
  }
  return loaded;
}
