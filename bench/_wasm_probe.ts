// A WebAssembly module of single instructions in loops, built byte by byte
// here (no toolchain at benchmark time), so that primitives.ts can time what
// one instruction of the kind the core is made of costs in this runtime:
// the same instruction in every runtime, on a shared memory like the core's.
//
//   export NAME(n: i32) -> i32   runs its instruction n times; returns a sum
//                                 of what it loaded, so that nothing is dead
//   export call(x: i32) -> i32   x + 1: the cost of a call into wasm
//
// Found with it (bench/README.md, issue 10): JavaScriptCore compiles
// i32.atomic.load as a locked instruction (as costly as a compare-and-swap,
// about 6 ns here), where V8 and C make it a plain load (under 1 ns).

/** Instructions the probe times, each as the bytes of one loop body step (local 1 is the counter i, local 2 the sum). */
const BODIES: Record<string, number[]> = {
  // sum += i32.atomic.load [64]
  atomicLoad: [0x41, 0xC0, 0x00, 0xFE, 0x10, 0x02, 0x00, 0x20, 0x02, 0x6A, 0x21, 0x02],
  // sum += i32.load [64]
  plainLoad: [0x41, 0xC0, 0x00, 0x28, 0x02, 0x00, 0x20, 0x02, 0x6A, 0x21, 0x02],
  // i32.atomic.store [64] = i
  atomicStore: [0x41, 0xC0, 0x00, 0x20, 0x01, 0xFE, 0x17, 0x02, 0x00],
  // i32.store [64] = i
  plainStore: [0x41, 0xC0, 0x00, 0x20, 0x01, 0x36, 0x02, 0x00],
  // sum += i32.atomic.rmw.cmpxchg [64] (i -> i + 1)
  compareExchange: [
    0x41,
    0xC0,
    0x00,
    0x20,
    0x01,
    0x20,
    0x01,
    0x41,
    0x01,
    0x6A,
    0xFE,
    0x48,
    0x02,
    0x00,
    0x20,
    0x02,
    0x6A,
    0x21,
    0x02,
  ],
};

/** The probe's export names: one per instruction, then `call`. */
export const PROBE_INSTRUCTIONS = Object.keys(BODIES);

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7F;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function section(id: number, bytes: number[]): number[] {
  return [id, ...uleb(bytes.length), ...bytes];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
}

/** `for (i = 0; i < n; i++) body; return sum` with two i32 locals (i, sum). */
function loopFunction(body: number[]): number[] {
  const code = [
    0x01,
    0x02,
    0x7F, // locals: 2 x i32
    0x02,
    0x40, // block
    0x03,
    0x40, // loop
    0x20,
    0x01,
    0x20,
    0x00,
    0x4E,
    0x0D,
    0x01, // br_if 1 (i >= n)
    ...body,
    0x20,
    0x01,
    0x41,
    0x01,
    0x6A,
    0x21,
    0x01, // i += 1
    0x0C,
    0x00, // br 0
    0x0B,
    0x0B, // end loop, end block
    0x20,
    0x02, // sum
    0x0B,
  ];
  return [...uleb(code.length), ...code];
}

/** The probe module's bytes: it imports `env.memory`, a shared memory of one page. */
export function probeModuleBytes(): Uint8Array<ArrayBuffer> {
  const names = [...PROBE_INSTRUCTIONS, "call"];
  const type = [0x60, 0x01, 0x7F, 0x01, 0x7F]; // (i32) -> i32
  const memoryImport = [...name("env"), ...name("memory"), 0x02, 0x03, 0x01, 0x01]; // shared, 1..1 pages
  const callBody = [0x00, 0x20, 0x00, 0x41, 0x01, 0x6A, 0x0B];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6D,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vector([type])),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(names.map(() => [0x00]))),
    ...section(7, vector(names.map((n, i) => [...name(n), 0x00, ...uleb(i)]))),
    ...section(
      10,
      vector([...PROBE_INSTRUCTIONS.map((n) => loopFunction(BODIES[n])), [
        ...uleb(callBody.length),
        ...callBody,
      ]]),
    ),
  ];
  return new Uint8Array(bytes);
}

/** The probe, instantiated on a fresh shared memory of its own. */
export function probe(): Record<string, (n: number) => number> {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const module = new WebAssembly.Module(probeModuleBytes());
  return new WebAssembly.Instance(module, { env: { memory } }).exports as Record<
    string,
    (n: number) => number
  >;
}
