// The POSIX operations wshm needs, built once over any backend's raw Libc:
// errno mapped to coded errors, struct stat decoded per architecture
// (files.ts), futex waits that retry EINTR, and process identity read from
// /proc (proc.ts).

import type { Libc, RuntimeName } from "./types.ts";
import { codeForErrno, errnoName, WshmError } from "../errors.ts";
import {
  cString,
  decodeStat,
  EINTR,
  type FileStatus,
  O_CLOEXEC,
  O_CREAT,
  O_EXCL,
  O_RDWR,
  readWholeFile,
  STAT_SIZE,
} from "./files.ts";
import { procStat, startTicksOf } from "./proc.ts";
import { FUTEX2_SIZE_U32 } from "./syscalls.ts";

export type { FileStatus } from "./files.ts";

const PROT_READ_WRITE = 1 | 2;
const MAP_SHARED = 0x01;
const MAP_PRIVATE = 0x02;
const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const MAP_FAILED = 2 ** 64 - 1;
const EAGAIN = 11;
const ETIMEDOUT = 110;
/** The core's clock counts microseconds modulo 2^30 (wasm/base/clock.ts unwraps it). */
const CLOCK_US_MASK = (1 << 30) - 1;
/** (uid_t) -1 / (gid_t) -1: fchown leaves that id as it is. */
const ID_UNCHANGED = 0xFFFFFFFF;

/** Outcome of a futex wait, the same numbers as the core's host.wait import. */
export const WAIT_WOKEN = 0;
export const WAIT_NOT_EQUAL = 1;
export const WAIT_TIMED_OUT = 2;

/** One process's view of the operating system, shared by every segment it opens. */
export class Posix {
  readonly runtime: RuntimeName;
  /** This process's pid. */
  readonly pid: number;
  /** This process's start time (clock ticks after boot), so that identity survives pid reuse. */
  readonly startTicks: bigint;
  readonly #c: Libc;
  // struct timespec { int64 tv_sec; int64 tv_nsec; } written as 32-bit halves
  // (little-endian, high halves 0: timeouts are far below 2^31 s), so that a
  // timed wait allocates no BigInt.
  readonly #timespec = new Int32Array(4);
  readonly #timespecBytes = new Uint8Array(this.#timespec.buffer);
  /** futexWaitAsync's last timespec (tv_sec, tv_nsec as little-endian int64) and its timeout; never rewritten. */
  #asyncTimespec = new Uint8Array(16);
  #asyncTimeoutMs = -1;
  readonly #clock = new Int32Array(4);
  readonly #clockBytes = new Uint8Array(this.#clock.buffer);
  readonly #statBytes = new Uint8Array(STAT_SIZE);
  readonly #procBytes = new Uint8Array(1024);

  constructor(libc: Libc) {
    this.#c = libc;
    this.runtime = libc.runtime;
    this.pid = libc.getpid();
    this.startTicks = this.processStartTicks(this.pid) ?? 0n;
  }

  #fail(what: string, errno: number, codeOverride?: WshmError["code"]): never {
    throw new WshmError(codeOverride ?? codeForErrno(errno), `${what}: ${errnoName(errno)}`, {
      errno,
    });
  }

  /** Creates a new shared-memory object; fails with Exists if the name is taken. */
  shmCreate(name: string, mode: number): number {
    const fd = this.#c.shmOpen(cString(name), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) this.#fail(`Cannot create segment "${name}"`, this.#c.errno());
    return fd;
  }

  /** Opens an existing shared-memory object for reading and writing. */
  shmOpen(name: string): number {
    const fd = this.#c.shmOpen(cString(name), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) {
      const errno = this.#c.errno();
      if (errno === 2) {
        throw new WshmError("NotFound", `Cannot open segment "${name}": it does not exist`, {
          errno,
        });
      }
      // glibc's shm_open reports a directory as EINVAL (EISDIR from open(2));
      // the name itself was validated before this call.
      if (errno === 21 || errno === 22) {
        throw new WshmError("BadMagic", `Cannot open segment "${name}": it is a directory`, { errno });
      }
      this.#fail(`Cannot open segment "${name}"`, errno);
    }
    return fd;
  }

  /** Removes a name; the memory lives on until every process has unmapped it. */
  shmUnlink(name: string): void {
    if (this.#c.shmUnlink(cString(name)) !== 0) {
      const errno = this.#c.errno();
      if (errno === 2) {
        throw new WshmError("NotFound", `Cannot remove segment "${name}": it does not exist`, {
          errno,
        });
      }
      this.#fail(`Cannot remove segment "${name}"`, errno);
    }
  }

  /**
   * Sizes a new segment file and reserves its memory now, so that running out
   * of /dev/shm space is an error here instead of a SIGBUS on a later write.
   */
  reserve(fd: number, size: number, name: string): void {
    const errno = this.#c.fallocate(fd, size);
    if (errno !== 0) {
      this.#fail(
        `Cannot reserve ${size} bytes for segment "${name}" (is /dev/shm large enough?)`,
        errno,
        errno === 28 ? "NoSpace" : undefined,
      );
    }
  }

  /** Sets the exact permission bits (shm_open's mode is filtered by the umask). */
  chmod(fd: number, mode: number, name: string): void {
    if (this.#c.fchmod(fd, mode) !== 0) {
      this.#fail(`Cannot set mode of segment "${name}"`, this.#c.errno());
    }
  }

  stat(fd: number, name: string): FileStatus {
    const bytes = this.#statBytes;
    if (this.#c.fstat(fd, bytes) !== 0) this.#fail(`Cannot stat segment "${name}"`, this.#c.errno());
    return decodeStat(bytes);
  }

  /** The effective user id of this process, asked every time (a process may change it). */
  euid(): number {
    return this.#c.geteuid();
  }

  /** Gives the file `fd` to group `gid` (its owner stays); EPERM if this user may not. */
  chownGroup(fd: number, gid: number, name: string): void {
    if (this.#c.fchown(fd, ID_UNCHANGED, gid) !== 0) {
      const errno = this.#c.errno();
      this.#fail(
        `Cannot give segment "${name}" to group ${gid}` +
          (errno === 1 ? " (only root may give a file to a group its owner is not in)" : ""),
        errno,
      );
    }
  }

  /**
   * The whole of a small file such as /etc/passwd, read through the C library
   * (so that no runtime permission beyond FFI is needed); null if it cannot
   * be opened. At most `limit` bytes.
   */
  readFile(path: string, limit = 16 << 20): Uint8Array | null {
    return readWholeFile(this.#c, path, limit);
  }

  /** Reads up to `count` bytes at `offset` without mapping anything. */
  pread(fd: number, count: number, offset: number, name: string): Uint8Array {
    const buffer = new Uint8Array(count);
    const n = this.#c.pread(fd, buffer, count, offset);
    if (n < 0) this.#fail(`Cannot read segment "${name}"`, this.#c.errno());
    return buffer.subarray(0, n);
  }

  /** Maps `size` bytes of `fd` shared at exactly `address`, replacing what was there. */
  mapShared(address: number, size: number, fd: number, name: string): void {
    const result = this.#c.mmap(address, size, PROT_READ_WRITE, MAP_SHARED | MAP_FIXED, fd);
    if (result !== address) {
      const errno = this.#c.errno();
      if (result === MAP_FAILED || result === -1) this.#fail(`Cannot map segment "${name}"`, errno);
      throw new WshmError("Unknown", `Cannot map segment "${name}": mmap moved the mapping`);
    }
  }

  /** Puts private zero pages back over `[address, address + size)`, detaching a segment. */
  mapPrivate(address: number, size: number): void {
    const result = this.#c.mmap(
      address,
      size,
      PROT_READ_WRITE,
      MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS,
      -1,
    );
    if (result !== address) this.#fail("Cannot detach segment", this.#c.errno());
  }

  close(fd: number): void {
    this.#c.close(fd);
  }

  #setTimespec(timeoutMs: number): Uint8Array {
    const ms = Math.max(0, timeoutMs);
    this.#timespec[0] = Math.min(Math.floor(ms / 1000), 0x7FFFFFFF);
    this.#timespec[2] = Math.floor((ms % 1000) * 1e6);
    return this.#timespecBytes;
  }

  /**
   * Sleeps while the word at `address` holds `expected`, at most `timeoutMs`
   * (negative: no limit). Returns WAIT_WOKEN, WAIT_NOT_EQUAL or WAIT_TIMED_OUT.
   */
  futexWait(address: number, expected: number, timeoutMs: number): number {
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    while (true) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) return WAIT_TIMED_OUT;
      const spec = remaining === Infinity ? null : this.#setTimespec(remaining);
      if (this.#c.futexWait(address, expected | 0, spec) === 0) return WAIT_WOKEN;
      const errno = this.#c.errno();
      if (errno === EAGAIN) return WAIT_NOT_EQUAL;
      if (errno === ETIMEDOUT) return WAIT_TIMED_OUT;
      if (errno !== EINTR) this.#fail("futex wait failed", errno);
    }
  }

  /**
   * The core's wait (host.waitUs): at most `timeoutUs` whole microseconds
   * (negative: no limit), one syscall and no clock read. EINTR comes back as
   * WAIT_WOKEN: the core takes every return as "look again" and works out
   * the time left from its own clock, so the retry is its, not ours.
   */
  futexWaitUs(address: number, expected: number, timeoutUs: number): number {
    let spec: Uint8Array | null = null;
    if (timeoutUs >= 0) {
      const seconds = Math.floor(timeoutUs / 1_000_000);
      this.#timespec[0] = seconds;
      this.#timespec[2] = (timeoutUs - seconds * 1_000_000) * 1000;
      spec = this.#timespecBytes;
    }
    if (this.#c.futexWait(address, expected | 0, spec) === 0) return WAIT_WOKEN;
    const errno = this.#c.errno();
    if (errno === EAGAIN) return WAIT_NOT_EQUAL;
    if (errno === ETIMEDOUT) return WAIT_TIMED_OUT;
    if (errno === EINTR) return WAIT_WOKEN;
    this.#fail("futex wait failed", errno);
  }

  /**
   * CLOCK_MONOTONIC in whole microseconds modulo 2^30 (the core's
   * host.clockUs): always a small integer, so V8 never boxes it. Under V8
   * through clock_gettime into a buffer kept for it (performance.now()
   * returns a heap number in Node 20: 16 B a read, measured); under
   * JavaScriptCore, which never boxes doubles, performance.now().
   */
  clockUs(): number {
    if (this.runtime === "bun") return (performance.now() * 1000) & CLOCK_US_MASK;
    this.#c.clockMonotonic(this.#clockBytes);
    // The low halves of tv_sec and tv_nsec: monotonic seconds (time since
    // boot) fit in 31 bits, and the product stays an exact double.
    return (this.#clock[0] * 1_000_000 + Math.floor(this.#clock[2] / 1000)) & CLOCK_US_MASK;
  }

  /** The same wait off the JavaScript thread. Callers re-check their word after it resolves. */
  futexWaitAsync(address: number, expected: number, timeoutMs: number): Promise<number> {
    let spec: Uint8Array | null = null;
    if (timeoutMs >= 0) {
      // The call reads the 16 bytes on another thread while other waits may
      // be pending, so a timespec is never rewritten once handed out: each
      // new timeout gets its own, and the last one is kept for the next wait
      // with the same timeout (most waits are whole slices of the same length).
      if (timeoutMs !== this.#asyncTimeoutMs) {
        // tv_sec in the low 31 bits (68 years at most: a longer wait is a spurious wake-up; callers re-check).
        const seconds = Math.min(Math.floor(timeoutMs / 1000), 0x7FFFFFFF);
        const words = new Int32Array(4);
        words[0] = seconds;
        words[2] = Math.min(Math.floor((timeoutMs - seconds * 1000) * 1e6), 999_999_999);
        this.#asyncTimespec = new Uint8Array(words.buffer);
        this.#asyncTimeoutMs = timeoutMs;
      }
      spec = this.#asyncTimespec;
    }
    return this.#c.futexWaitAsync(address, expected | 0, spec);
  }

  /**
   * Sleeps until one of the futex words described in `waiters` (a buffer of
   * `count` struct futex_waitv, see FutexVector) is woken or no longer holds
   * its value, at most `timeoutMs` (negative: no limit). Returns the index of
   * the word woken (>= 0), or -WAIT_NOT_EQUAL, -WAIT_TIMED_OUT.
   */
  futexWaitv(waiters: FutexVector, timeoutMs: number): number {
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    while (true) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) return -WAIT_TIMED_OUT;
      const spec = remaining === Infinity ? null : waiters.deadline(remaining);
      const r = this.#c.futexWaitv(waiters.address, waiters.count, spec);
      if (r >= 0) return r;
      const errno = this.#c.errno();
      if (errno === EAGAIN) return -WAIT_NOT_EQUAL;
      if (errno === ETIMEDOUT) return -WAIT_TIMED_OUT;
      if (errno !== EINTR) this.#fail("futex_waitv failed", errno);
    }
  }

  /** True if this runtime can run futexWaitv off the JavaScript thread. */
  get futexWaitvAsyncAvailable(): boolean {
    return this.#c.futexWaitvAsync !== undefined;
  }

  /** The same wait off the JavaScript thread (see futexWaitvAsyncAvailable): the syscall's result. */
  futexWaitvAsync(waiters: FutexVector, timeoutMs: number): Promise<number> {
    const spec = timeoutMs < 0 ? null : waiters.deadline(timeoutMs);
    return this.#c.futexWaitvAsync!(waiters.address, waiters.count, spec);
  }

  /** Wakes at most `count` sleepers on the word at `address`. */
  futexWake(address: number, count: number): number {
    const n = this.#c.futexWake(address, count);
    return n < 0 ? 0 : n;
  }

  addressOf(buffer: SharedArrayBuffer): number {
    return this.#c.addressOf(buffer);
  }

  /** getpid() through the FFI every time (uncached): the cost of one trivial FFI call. */
  getpidUncached(): number {
    return this.#c.getpid();
  }

  /** Sends a signal; false if the process does not exist or may not be signalled. */
  kill(pid: number, signal: number): boolean {
    return this.#c.kill(pid, signal) === 0;
  }

  /** The start time of `pid` in clock ticks after boot, or null if it does not exist. */
  processStartTicks(pid: number): bigint | null {
    return startTicksOf(this.#procStat(pid));
  }

  /**
   * True if `pid` exists, is not a zombie, and (when `startTicks` is not 0)
   * was started at `startTicks`.
   */
  processAlive(pid: number, startTicks: bigint): boolean {
    // A pid from a corrupt segment may be anything; no real pid is outside this range.
    if (!Number.isInteger(pid) || pid <= 0 || pid > 0x3FFFFFFF) return false;
    const fields = this.#procStat(pid);
    if (fields === null) {
      // /proc may hide other users' processes (hidepid): fall back to kill(0).
      return this.#c.kill(pid, 0) === 0 || this.#c.errno() === 1;
    }
    if (fields[0] === "Z" || fields[0] === "X") return false;
    return startTicks === 0n || startTicksOf(fields) === startTicks;
  }

  #procStat(pid: number): string[] | null {
    return procStat(this.#c, pid, this.#procBytes);
  }
}

/** The most words one futex_waitv call takes (the kernel's FUTEX_WAITV_MAX). */
export const FUTEX_WAITV_MAX = 128;
const WAITV_ENTRY = 24;

/**
 * An array of struct futex_waitv { u64 val; u64 uaddr; u32 flags; u32
 * reserved; } in memory of its own (so it has a fixed address), plus the
 * absolute timeout futex_waitv takes. Filled by the wait set before each wait.
 */
export class FutexVector {
  /** How many entries the next wait uses. */
  count = 0;
  readonly address: number;
  readonly #words: BigUint64Array;
  readonly #flags: Uint32Array;
  readonly #timespec = new BigInt64Array(2);
  readonly #timespecBytes = new Uint8Array(this.#timespec.buffer);

  constructor(posix: { addressOf(buffer: SharedArrayBuffer): number }) {
    const buffer = new SharedArrayBuffer(FUTEX_WAITV_MAX * WAITV_ENTRY);
    this.#words = new BigUint64Array(buffer);
    this.#flags = new Uint32Array(buffer);
    this.address = posix.addressOf(buffer);
  }

  /** Entry `index`: wait while the 32-bit word at real address `address` holds `value`. */
  set(index: number, address: number, value: number): void {
    const w = index * 3;
    this.#words[w] = BigInt(value >>> 0);
    this.#words[w + 1] = BigInt(address);
    this.#flags[w * 2 + 4] = FUTEX2_SIZE_U32;
    this.#flags[w * 2 + 5] = 0;
  }

  /** The absolute CLOCK_REALTIME time `timeoutMs` from now, as futex_waitv's timespec. */
  deadline(timeoutMs: number): Uint8Array {
    const at = Date.now() + Math.max(0, timeoutMs);
    this.#timespec[0] = BigInt(Math.floor(at / 1000));
    this.#timespec[1] = BigInt(Math.floor((at % 1000) * 1e6));
    return this.#timespecBytes;
  }
}
