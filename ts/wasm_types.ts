/**
 * The WebAssembly objects that the package's declarations name, as the
 * structural types wshm relies on. TypeScript declares the `WebAssembly`
 * namespace only in its DOM lib, so declarations naming `WebAssembly.Memory`
 * would not compile in a Node program type-checked with `lib: ["ES2022"]` and
 * @types/node (no DOM). The real objects satisfy these types in every runtime.
 *
 * @module
 */

/** A `WebAssembly.Memory`; wshm's are shared, so `buffer` is a SharedArrayBuffer. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(delta: number): number;
}

/** A `WebAssembly.Global` exported by the core: every one is an i32. */
export interface WasmGlobal {
  readonly value: number;
}

/** A compiled `WebAssembly.Module`: opaque outside ts/core.ts, which alone instantiates it. */
export type WasmModule = object;
