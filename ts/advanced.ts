/**
 * The advanced entry point (`wshm/advanced`): the core instance, its
 * constants and the platform layer behind a {@linkcode Segment}, for
 * embedders, tools and tests that call the core's exports directly
 * (docs/ABI.md). Ordinary programs need none of this: `wshm` is the API.
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
 * import { internals } from "wshm/advanced";
 * using segment = Segment.create("/advanced-example", { size: 65536 });
 * const { core, constants } = internals(segment);
 * console.log(core.directoryLockHolder() === 0, constants.LAYOUT_VERSION);
 * segment.unlink();
 * ```
 *
 * @module
 */

import type { Segment } from "./segment.ts";
import type { Core, CoreConstants } from "./core.ts";
import type { Posix } from "./platform/mod.ts";
import type { WasmMemory } from "./wasm_types.ts";

export type { Core, CoreConstants, Posix };
export type { CoreExports, CoreFunctions, CoreGlobals } from "./core_abi.ts";

/** What lies behind a segment: see docs/ABI.md for every export of `core`. */
export interface SegmentInternals {
  /** The core instance bound to the segment's memory. */
  readonly core: Core;
  /** The core's layout and status constants, each with its literal type. */
  readonly constants: CoreConstants;
  /** The platform layer (FFI to libc) of this process. */
  readonly posix: Posix;
  /** The real address of wasm address 0 in this process (the segment starts 65536 bytes after it). */
  readonly base: number;
  /** The WebAssembly memory the segment is mapped into. */
  readonly memory: WasmMemory;
}

/** The internals of a segment. They stay valid until the segment is closed. */
export function internals(segment: Segment): SegmentInternals {
  return {
    core: segment.core,
    constants: segment.constants,
    posix: segment.posix,
    base: segment.base,
    memory: segment.memory,
  };
}
