/**
 * wshm: shared-memory IPC for Deno, Node and Bun, with every protocol in one
 * WebAssembly core mapped onto a real POSIX shared-memory segment.
 *
 * @example
 * ```ts
 * import { Segment } from "./mod.ts";
 * using segment = Segment.create("/hello", { size: 1 << 20 });
 * using held = segment.mutex("lock").lock();
 * segment.unlink();
 * ```
 *
 * @module
 */

export { Segment, kindName } from "./segment.ts";
export type { CreateOptions, ObjectInfo, OpenOptions } from "./segment.ts";
export { Mutex, MutexGuard } from "./mutex.ts";
export type { LockOptions } from "./mutex.ts";
export { WshmError } from "./errors.ts";
export type { Core, CoreConstants } from "./core.ts";
export type { Posix } from "./platform/posix.ts";
export type { WshmErrorCode } from "./errors.ts";
