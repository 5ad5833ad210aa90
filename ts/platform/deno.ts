// The Deno backend: Deno.dlopen with the stable FFI. The async futex wait is a
// `nonblocking` symbol, which Deno runs on a thread of its own blocking pool.
// 64-bit parameters get BigInts: Deno's fast call path takes BigInt for them,
// and a Number there costs about 170 ns more per call (measured on a futex wake).

import {
  CLOCK_MONOTONIC,
  CLOCK_REALTIME,
  FUTEX_WAIT,
  FUTEX_WAKE,
  SYS_FUTEX,
  SYS_FUTEX_WAITV,
} from "./syscalls.ts";
import type { Libc } from "./types.ts";

const symbols = {
  /** int shm_open(const char *name, int oflag, mode_t mode) */
  shm_open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  /** int shm_unlink(const char *name) */
  shm_unlink: { parameters: ["buffer"], result: "i32" },
  /** int posix_fallocate(int fd, off_t offset, off_t len) */
  posix_fallocate: { parameters: ["i32", "i64", "i64"], result: "i32" },
  /** int fchmod(int fd, mode_t mode) */
  fchmod: { parameters: ["i32", "u32"], result: "i32" },
  /** int fchown(int fd, uid_t owner, gid_t group) */
  fchown: { parameters: ["i32", "u32", "u32"], result: "i32" },
  /** int fstat(int fd, struct stat *buf) */
  fstat: { parameters: ["i32", "buffer"], result: "i32" },
  /** ssize_t pread(int fd, void *buf, size_t count, off_t offset) */
  pread: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  /** void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) */
  mmap: { parameters: ["usize", "usize", "i32", "i32", "i32", "i64"], result: "usize" },
  /** int open(const char *path, int flags) */
  open: { parameters: ["buffer", "i32"], result: "i32" },
  /** int close(int fd) */
  close: { parameters: ["i32"], result: "i32" },
  /** int kill(pid_t pid, int sig) */
  kill: { parameters: ["i32", "i32"], result: "i32" },
  /** pid_t getpid(void) */
  getpid: { parameters: [], result: "i32" },
  /** uid_t geteuid(void) */
  geteuid: { parameters: [], result: "u32" },
  /** int clock_gettime(clockid_t clock, struct timespec *tp) */
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  /** int *__errno_location(void) */
  __errno_location: { parameters: [], result: "pointer" },
  /**
   * long syscall(long number, ...): futex(uaddr, op, val, timeout, uaddr2, val3).
   * The result is read as i32: futex results fit, and Deno returns i64 as a
   * BigInt, which costs more than the syscall itself.
   */
  syscall: { parameters: ["i64", "usize", "i32", "i32", "buffer", "usize", "i32"], result: "i32" },
  /** The same syscall for FUTEX_WAKE, without the buffer parameter it does not need. */
  syscall_wake: {
    name: "syscall",
    parameters: ["i64", "usize", "i32", "i32", "usize", "usize", "i32"],
    result: "i32",
  },
  /** The same syscall, run on a thread of Deno's blocking pool. */
  syscall_async: {
    name: "syscall",
    parameters: ["i64", "usize", "i32", "i32", "buffer", "usize", "i32"],
    result: "i32",
    nonblocking: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

const FUTEX_NR = BigInt(SYS_FUTEX);
const WAITV_NR = BigInt(SYS_FUTEX_WAITV);
const CLOCK_REALTIME_BIG = BigInt(CLOCK_REALTIME);

// The BigInt of each futex address, made once: a process waits and wakes on a
// few words over and over, and a new BigInt per call would be garbage per
// message. Bounded, since segments come and go at new addresses.
const bigAddresses = new Map<number, bigint>();
function bigAddress(address: number): bigint {
  let big = bigAddresses.get(address);
  if (big === undefined) {
    if (bigAddresses.size >= 4096) bigAddresses.clear();
    big = BigInt(address);
    bigAddresses.set(address, big);
  }
  return big;
}

/** Opens the C library through Deno's FFI. */
export function loadDenoLibc(): Libc {
  const { symbols: c } = Deno.dlopen("libc.so.6", symbols);
  // One view of errno, made once: a futex wait that returns EAGAIN reads it
  // on the park path, and a view per read was garbage per message.
  const errnoView = new Deno.UnsafePointerView(c.__errno_location()!);
  return {
    runtime: "deno",
    shmOpen: (name, oflag, mode) => c.shm_open(name, oflag, mode),
    shmUnlink: (name) => c.shm_unlink(name),
    fallocate: (fd, length) => c.posix_fallocate(fd, 0n, BigInt(length)),
    fchmod: (fd, mode) => c.fchmod(fd, mode),
    fchown: (fd, owner, group) => c.fchown(fd, owner, group),
    fstat: (fd, statBuffer) => c.fstat(fd, statBuffer),
    pread: (fd, buffer, count, offset) => Number(c.pread(fd, buffer, BigInt(count), BigInt(offset))),
    mmap: (address, length, prot, flags, fd) =>
      Number(c.mmap(BigInt(address), BigInt(length), prot, flags, fd, 0n)),
    open: (path, flags) => c.open(path, flags),
    close: (fd) => c.close(fd),
    kill: (pid, signal) => c.kill(pid, signal),
    getpid: () => c.getpid(),
    geteuid: () => c.geteuid(),
    futexWait: (address, expected, timespec) =>
      c.syscall(FUTEX_NR, bigAddress(address), FUTEX_WAIT, expected, timespec, 0n, 0),
    futexWake: (address, count) =>
      c.syscall_wake(FUTEX_NR, bigAddress(address), FUTEX_WAKE, count, 0n, 0n, 0),
    futexWaitAsync: (address, expected, timespec) =>
      c.syscall_async(FUTEX_NR, bigAddress(address), FUTEX_WAIT, expected, timespec, 0n, 0),
    // futex_waitv(waiters, count, flags 0, timeout, clockid) in the same 7-argument shape.
    futexWaitv: (waiters, count, timespec) =>
      c.syscall(WAITV_NR, bigAddress(waiters), count, 0, timespec, CLOCK_REALTIME_BIG, 0),
    futexWaitvAsync: (waiters, count, timespec) =>
      c.syscall_async(WAITV_NR, bigAddress(waiters), count, 0, timespec, CLOCK_REALTIME_BIG, 0),
    clockMonotonic: (timespec) => c.clock_gettime(CLOCK_MONOTONIC, timespec),
    errno: () => errnoView.getInt32(),
    addressOf: (buffer) => Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(new Uint8Array(buffer)))),
  };
}
