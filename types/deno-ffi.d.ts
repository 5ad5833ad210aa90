// The small part of Deno's API that ts/platform/deno.ts uses, declared for tsc
// (which builds the npm package and knows nothing of Deno). Deno itself never
// reads this file: it has the real declarations built in.

declare namespace Deno {
  type NativeType =
    | "i8" | "u8" | "i16" | "u16" | "i32" | "u32" | "i64" | "u64" | "usize" | "isize"
    | "f32" | "f64" | "pointer" | "buffer" | "void";
  interface ForeignFunction {
    name?: string;
    parameters: readonly NativeType[];
    result: NativeType;
    nonblocking?: boolean;
  }
  type ForeignLibraryInterface = Record<string, ForeignFunction>;
  type PointerObject = { readonly __brand: "PointerObject" };
  type PointerValue = PointerObject | null;
  // deno-lint-ignore no-explicit-any
  function dlopen<S extends ForeignLibraryInterface>(path: string, symbols: S): { symbols: any; close(): void };
  class UnsafePointerView {
    constructor(pointer: PointerObject);
    getInt32(offset?: number): number;
  }
  const UnsafePointer: {
    of(value: ArrayBufferView | ArrayBuffer | SharedArrayBuffer): PointerValue;
    value(value: PointerValue): number | bigint;
  };
  const build: { os: string; arch: string };
  const pid: number;
}
