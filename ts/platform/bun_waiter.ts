// A worker thread of the Bun backend's waiter pool: receives
// [address, expected, timeoutNs], blocks in futex(FUTEX_WAIT) and posts the
// syscall's result back. Only Bun loads this file.

// deno-lint-ignore-file no-explicit-any
import { FUTEX_WAIT, SYS_FUTEX } from "./syscalls.ts";

const ffi: any = await import("bun:ffi" as string);
const T = ffi.FFIType;
const { symbols: c } = ffi.dlopen("libc.so.6", {
  syscall: { args: [T.i64, T.u64, T.i32, T.i32, T.ptr, T.u64, T.i32], returns: T.i64_fast },
});
const timespec = new BigInt64Array(2);
const self = globalThis as any;

self.onmessage = (event: { data: [number, number, number] }) => {
  const [address, expected, timeoutNs] = event.data;
  let spec: BigInt64Array | null = null;
  if (timeoutNs >= 0) {
    timespec[0] = BigInt(Math.floor(timeoutNs / 1e9));
    timespec[1] = BigInt(Math.floor(timeoutNs % 1e9));
    spec = timespec;
  }
  self.postMessage(Number(c.syscall(SYS_FUTEX, address, FUTEX_WAIT, expected, spec, 0, 0)));
};
