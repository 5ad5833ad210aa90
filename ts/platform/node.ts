// The Node backend: koffi. The async futex wait is koffi's `.async()` call,
// which runs on a libuv thread-pool thread, for one wait at a time; further
// concurrent waits get threads of their own (node_waiter.ts says why).

import { nodeWaiter } from "./node_waiter.ts";
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
type KoffiFunction = any;

/** Opens the C library through koffi (Node's FFI); `koffi` is the module's default export. */
// deno-lint-ignore no-explicit-any
export function loadNodeLibc(koffi: any): Libc {
  const lib = koffi.load("libc.so.6");
  const f = (declaration: string): KoffiFunction => lib.func(declaration);
  const shmOpen = f("int shm_open(void *name, int oflag, uint32_t mode)");
  const shmUnlink = f("int shm_unlink(void *name)");
  const fallocate = f("int posix_fallocate(int fd, int64_t offset, int64_t len)");
  const fchmod = f("int fchmod(int fd, uint32_t mode)");
  const fchown = f("int fchown(int fd, uint32_t owner, uint32_t group)");
  const fstat = f("int fstat(int fd, void *buf)");
  const pread = f("intptr_t pread(int fd, void *buf, uintptr_t count, int64_t offset)");
  const mmap = f(
    "uintptr_t mmap(uintptr_t addr, uintptr_t length, int prot, int flags, int fd, int64_t offset)",
  );
  const open = f("int open(void *path, int flags)");
  const close = f("int close(int fd)");
  const kill = f("int kill(int pid, int sig)");
  const getpid = f("int getpid()");
  const geteuid = f("uint32_t geteuid()");
  const clockGettime = f("int clock_gettime(int clock, void *tp)");
  // long syscall(long number, ...): futex(uaddr, op, val, timeout, uaddr2, val3).
  // The result is read as int: futex results fit, and it avoids BigInt.
  const syscall = f(
    "int syscall(int64_t nr, uintptr_t addr, int op, int val, void *timeout, uintptr_t addr2, int val3)",
  );
  return {
    runtime: "node",
    shmOpen: (name, oflag, mode) => shmOpen(name, oflag, mode),
    shmUnlink: (name) => shmUnlink(name),
    fallocate: (fd, length) => fallocate(fd, 0, length),
    fchmod: (fd, mode) => fchmod(fd, mode),
    fchown: (fd, owner, group) => fchown(fd, owner, group),
    fstat: (fd, statBuffer) => fstat(fd, statBuffer),
    pread: (fd, buffer, count, offset) => Number(pread(fd, buffer, count, offset)),
    mmap: (address, length, prot, flags, fd) => Number(mmap(address, length, prot, flags, fd, 0)),
    open: (path, flags) => open(path, flags),
    close: (fd) => close(fd),
    kill: (pid, signal) => kill(pid, signal),
    getpid: () => getpid(),
    geteuid: () => geteuid(),
    futexWait: (address, expected, timespec) =>
      syscall(SYS_FUTEX, address, FUTEX_WAIT, expected, timespec, 0, 0),
    futexWake: (address, count) => syscall(SYS_FUTEX, address, FUTEX_WAKE, count, null, 0, 0),
    futexWaitAsync: nodeWaiter((address, expected, timespec, settled) =>
      new Promise((resolve, reject) => {
        try {
          syscall.async(
            SYS_FUTEX,
            address,
            FUTEX_WAIT,
            expected,
            timespec,
            0,
            0,
            (error: unknown, result: number) => {
              settled();
              if (error) reject(error);
              else resolve(result);
            },
          );
        } catch (error) {
          settled();
          reject(error);
        }
      })
    ),
    // futex_waitv(waiters, count, flags 0, timeout, clockid) in the same 7-argument shape.
    futexWaitv: (waiters, count, timespec) =>
      syscall(SYS_FUTEX_WAITV, waiters, count, 0, timespec, CLOCK_REALTIME, 0),
    futexWaitvAsync: (waiters, count, timespec) =>
      new Promise((resolve, reject) => {
        syscall.async(
          SYS_FUTEX_WAITV,
          waiters,
          count,
          0,
          timespec,
          CLOCK_REALTIME,
          0,
          (error: unknown, result: number) => error ? reject(error) : resolve(result),
        );
      }),
    clockMonotonic: (timespec) => clockGettime(CLOCK_MONOTONIC, timespec),
    errno: () => koffi.errno(),
    addressOf: (buffer) => Number(koffi.address(new Uint8Array(buffer))),
  };
}
