/**
 * The raw C library surface each runtime backend provides. Everything above it
 * (errno mapping, struct layouts, /proc parsing) lives once, in posix.ts.
 * Addresses are plain numbers: user-space addresses on Linux x86_64 and
 * aarch64 fit in 48 bits, well inside Number's exact range.
 *
 * @module
 */

/** The runtimes wshm runs on. */
export type RuntimeName = "deno" | "node" | "bun";

/** C library calls, each returning what the C function returns (-1 and errno on failure). */
export interface Libc {
  readonly runtime: RuntimeName;
  /** `int shm_open(const char *name, int oflag, mode_t mode)`; `name` is NUL-terminated. */
  shmOpen(name: Uint8Array, oflag: number, mode: number): number;
  /** `int shm_unlink(const char *name)`. */
  shmUnlink(name: Uint8Array): number;
  /** `int posix_fallocate(int fd, off_t offset, off_t len)`: returns an errno value, not -1. */
  fallocate(fd: number, length: number): number;
  /** `int fchmod(int fd, mode_t mode)`. */
  fchmod(fd: number, mode: number): number;
  /** `int fchown(int fd, uid_t owner, gid_t group)`; 0xFFFFFFFF ((uid_t) -1) leaves one unchanged. */
  fchown(fd: number, owner: number, group: number): number;
  /** `int fstat(int fd, struct stat *buf)`. */
  fstat(fd: number, statBuffer: Uint8Array): number;
  /** `ssize_t pread(int fd, void *buf, size_t count, off_t offset)`. */
  pread(fd: number, buffer: Uint8Array, count: number, offset: number): number;
  /** `void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)`. */
  mmap(address: number, length: number, prot: number, flags: number, fd: number): number;
  /** `int open(const char *path, int flags)`. */
  open(path: Uint8Array, flags: number): number;
  /** `int close(int fd)`. */
  close(fd: number): number;
  /** `int kill(pid_t pid, int sig)`. */
  kill(pid: number, signal: number): number;
  /** `pid_t getpid(void)`. */
  getpid(): number;
  /** `uid_t geteuid(void)`. */
  geteuid(): number;
  /** `futex(addr, FUTEX_WAIT, expected, timeout)`; `timespec` is 16 bytes or null for no limit. */
  futexWait(address: number, expected: number, timespec: Uint8Array | null): number;
  /** `futex(addr, FUTEX_WAKE, count)`: how many woke. */
  futexWake(address: number, count: number): number;
  /**
   * The same wait run off the JavaScript thread; resolves with the syscall's
   * result. errno is not available (it belongs to another thread).
   */
  futexWaitAsync(address: number, expected: number, timespec: Uint8Array | null): Promise<number>;
  /**
   * `syscall(SYS_futex_waitv, waiters, count, 0, timespec, CLOCK_REALTIME)`:
   * sleeps until one of `count` futex words (an array of struct futex_waitv
   * at address `waiters`) is woken or does not hold its value; `timespec` is
   * an absolute CLOCK_REALTIME time, or null for no limit. Returns the index
   * of the word woken, or -1 and errno.
   */
  futexWaitv(waiters: number, count: number, timespec: Uint8Array | null): number;
  /** The same wait off the JavaScript thread, or undefined if this runtime has no off-thread call for it. */
  futexWaitvAsync?: (waiters: number, count: number, timespec: Uint8Array | null) => Promise<number>;
  /** `int clock_gettime(CLOCK_MONOTONIC, struct timespec *tp)`; `timespec` is 16 bytes. */
  clockMonotonic(timespec: Uint8Array): number;
  /** The calling thread's errno. */
  errno(): number;
  /** The address of the first byte of a SharedArrayBuffer (a wasm memory's buffer). */
  addressOf(buffer: SharedArrayBuffer): number;
}
