// The part of the WebAssembly JS API that ts/core.ts and ts/segment_open.ts
// use, declared for the npm build. TypeScript has these only in its DOM lib,
// which the build leaves out so that nothing it emits can come to depend on
// DOM types (the shipped declarations name ts/wasm_types.ts instead). Build
// only: no emitted declaration refers to this file, and Deno has its own.

declare namespace WebAssembly {
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
    static exports(module: Module): { name: string; kind: string }[];
    static imports(module: Module): { module: string; name: string; kind: string }[];
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    grow(delta: number): number;
  }
  class Global {
    value: number;
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}
