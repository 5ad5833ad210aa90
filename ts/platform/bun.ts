// The Bun backend: bun:ffi. Bun has no off-thread FFI call, so the async futex
// wait runs in a small pool of worker threads (bun_waiter.ts), each of which
// makes the blocking call and posts the result back.

import {
  CLOCK_MONOTONIC,
  CLOCK_REALTIME,
  FUTEX_WAIT,
  FUTEX_WAKE,
  SYS_FUTEX,
  SYS_FUTEX_WAITV,
} from "./syscalls.ts";
import type { Libc } from "./types.ts";

// deno-lint-ignore no-explicit-any
type BunFfi = any;

/** Opens the C library through bun:ffi; `ffi` is the `bun:ffi` module. */
export function loadBunLibc(ffi: BunFfi): Libc {
  const T = ffi.FFIType;
  const { symbols: c } = ffi.dlopen("libc.so.6", {
    shm_open: { args: [T.ptr, T.i32, T.u32], returns: T.i32 },
    shm_unlink: { args: [T.ptr], returns: T.i32 },
    posix_fallocate: { args: [T.i32, T.i64, T.i64], returns: T.i32 },
    fchmod: { args: [T.i32, T.u32], returns: T.i32 },
    fchown: { args: [T.i32, T.u32, T.u32], returns: T.i32 },
    fstat: { args: [T.i32, T.ptr], returns: T.i32 },
    pread: { args: [T.i32, T.ptr, T.u64, T.i64], returns: T.i64_fast },
    mmap: { args: [T.u64, T.u64, T.i32, T.i32, T.i32, T.i64], returns: T.u64_fast },
    open: { args: [T.ptr, T.i32], returns: T.i32 },
    close: { args: [T.i32], returns: T.i32 },
    kill: { args: [T.i32, T.i32], returns: T.i32 },
    getpid: { args: [], returns: T.i32 },
    geteuid: { args: [], returns: T.u32 },
    __errno_location: { args: [], returns: T.ptr },
    clock_gettime: { args: [T.i32, T.ptr], returns: T.i32 },
    // long syscall(long number, ...): futex(uaddr, op, val, timeout, uaddr2, val3);
    // read as i32: futex results fit.
    syscall: { args: [T.i64, T.u64, T.i32, T.i32, T.ptr, T.u64, T.i32], returns: T.i32 },
  });
  const errnoPointer = c.__errno_location();
  let waiters: BunWaiterPool | undefined;
  return {
    runtime: "bun",
    shmOpen: (name, oflag, mode) => c.shm_open(name, oflag, mode),
    shmUnlink: (name) => c.shm_unlink(name),
    fallocate: (fd, length) => c.posix_fallocate(fd, 0, length),
    fchmod: (fd, mode) => c.fchmod(fd, mode),
    fchown: (fd, owner, group) => c.fchown(fd, owner, group),
    fstat: (fd, statBuffer) => c.fstat(fd, statBuffer),
    pread: (fd, buffer, count, offset) => Number(c.pread(fd, buffer, count, offset)),
    mmap: (address, length, prot, flags, fd) => Number(c.mmap(address, length, prot, flags, fd, 0)),
    open: (path, flags) => c.open(path, flags),
    close: (fd) => c.close(fd),
    kill: (pid, signal) => c.kill(pid, signal),
    getpid: () => c.getpid(),
    geteuid: () => c.geteuid(),
    futexWait: (address, expected, timespec) =>
      c.syscall(SYS_FUTEX, address, FUTEX_WAIT, expected, timespec, 0, 0),
    futexWake: (address, count) => c.syscall(SYS_FUTEX, address, FUTEX_WAKE, count, null, 0, 0),
    futexWaitAsync: (address, expected, timespec) => {
      waiters ??= new BunWaiterPool();
      return waiters.wait(address, expected, timespec);
    },
    // futex_waitv(waiters, count, flags 0, timeout, clockid) in the same 7-argument shape.
    // No off-thread variant: Bun has no async FFI call (the wait set polls there).
    futexWaitv: (waiters, count, timespec) =>
      c.syscall(SYS_FUTEX_WAITV, waiters, count, 0, timespec, CLOCK_REALTIME, 0),
    clockMonotonic: (timespec) => c.clock_gettime(CLOCK_MONOTONIC, timespec),
    errno: () => ffi.read.i32(errnoPointer, 0),
    addressOf: (buffer) => Number(ffi.ptr(new Uint8Array(buffer))),
  };
}

// Beside this file: bun_waiter.ts in the sources, bun_waiter.js in the npm build.
const waiterFile = import.meta.url.endsWith(".ts") ? "./bun_waiter.ts" : "./bun_waiter.js";

/**
 * Worker threads that each make one blocking futex wait at a time. Workers are
 * kept once started (at most one per concurrent wait) and do not keep the
 * process alive while idle.
 */
class BunWaiterPool {
  // deno-lint-ignore no-explicit-any
  #idle: any[] = [];

  wait(address: number, expected: number, timespec: Uint8Array | null): Promise<number> {
    // deno-lint-ignore no-explicit-any
    const W = (globalThis as any).Worker;
    const worker = this.#idle.pop() ??
      new W(new URL(waiterFile, import.meta.url).href, { smol: true });
    const timeoutNs = timespec === null
      ? -1
      : Number(new DataView(timespec.buffer, timespec.byteOffset).getBigInt64(0, true)) * 1e9 +
        Number(new DataView(timespec.buffer, timespec.byteOffset).getBigInt64(8, true));
    return new Promise((resolve, reject) => {
      worker.onmessage = (event: { data: number }) => {
        worker.unref?.();
        this.#idle.push(worker);
        resolve(event.data);
      };
      worker.onerror = (event: unknown) => reject(event);
      worker.ref?.();
      worker.postMessage([address, expected, timeoutNs]);
    });
  }
}
