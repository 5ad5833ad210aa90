// Shared by the C baselines: one shared mapping that two processes use, the
// futex calls, a clock per round trip, and the JSON line with the result.
//
// The mapping is a POSIX shared-memory object (shm_open + mmap MAP_SHARED),
// unlinked as soon as it is open: the forked peer inherits the mapping, so
// both processes share the object while its name is already gone, and no run
// (not even a crashed or killed one) can leave a segment in /dev/shm.
// Futexes are shared ones (no FUTEX_PRIVATE_FLAG), as in the wasm core's host.

#ifndef WSHM_BENCH_COMMON_H
#define WSHM_BENCH_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CACHE_LINE 64
/** Longest a whole run may take before both processes are killed. */
#define WATCHDOG_SECONDS 300

static pid_t peer_pid = 0;

static void die(const char *what) {
  fprintf(stderr, "%s: %s\n", what, errno ? strerror(errno) : "failed");
  if (peer_pid > 0) kill(peer_pid, SIGKILL);
  exit(1);
}

/** Maps `size` zeroed bytes of a fresh POSIX shared-memory object whose name is already unlinked. */
static void *map_shared(size_t size) {
  char name[64];
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  snprintf(name, sizeof name, "/wshm-bench-c-%d-%ld", (int)getpid(), (long)now.tv_nsec);
  int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) die("shm_open");
  // Unlink before anything else can fail: the descriptor keeps the object alive.
  if (shm_unlink(name) != 0) die("shm_unlink");
  if (ftruncate(fd, (off_t)size) != 0) die("ftruncate");
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap");
  close(fd);
  return p;
}

/*
 * WSHM_BENCH_PIN (environment): unset or "none" leaves placement to the
 * scheduler (as the JavaScript benchmarks do); "same" pins both processes to
 * the first CPU this process may use, "split" the parent to the first and the
 * peer to the second. A parked round trip is bimodal without pinning: about
 * a context switch when the scheduler puts the woken process on the waker's
 * CPU, a cross-CPU wake-up (much slower on a VM) when it does not.
 */
static void pin(int which) {
  const char *mode = getenv("WSHM_BENCH_PIN");
  if (!mode || !*mode || strcmp(mode, "none") == 0) return;
  int split = strcmp(mode, "split") == 0;
  if (!split && strcmp(mode, "same") != 0) {
    fprintf(stderr, "WSHM_BENCH_PIN must be none, same or split, not %s\n", mode);
    exit(2);
  }
  cpu_set_t allowed, one;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) die("sched_getaffinity");
  // Started by a JavaScript harness that pinned itself to one CPU (bench/lib.ts, the same variable), this
  // process inherited that one CPU: then place by CPU number, 0 and 1, as the harness does.
  if (CPU_COUNT(&allowed) < 2) {
    CPU_ZERO(&allowed);
    CPU_SET(0, &allowed);
    CPU_SET(1, &allowed);
  }
  int wanted = split ? which : 0;
  for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; cpu++) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    if (seen++ < wanted) continue;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) die("sched_setaffinity");
    return;
  }
  errno = 0;
  die("WSHM_BENCH_PIN=split needs two CPUs");
}

/** Forks the peer; in the peer, returns 0 and arranges to die with the parent. */
static inline pid_t start_peer(void) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1); // the parent died before prctl took effect
    pin(1);
    return 0;
  }
  peer_pid = pid;
  pin(0);
  return pid;
}

static inline void wait_peer(void) {
  int status = 0;
  if (waitpid(peer_pid, &status, 0) != peer_pid) die("waitpid");
  peer_pid = 0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    errno = 0;
    die("peer process");
  }
}

static inline void futex_wait(uint32_t *addr, uint32_t expected) {
  if (syscall(SYS_futex, addr, FUTEX_WAIT, expected, NULL, NULL, 0) != 0 && errno != EAGAIN && errno != EINTR) {
    die("futex wait");
  }
}

static inline void futex_wake(uint32_t *addr, int count) {
  if (syscall(SYS_futex, addr, FUTEX_WAKE, count, NULL, NULL, 0) < 0) die("futex wake");
}

static inline uint32_t load(uint32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void store(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

static inline uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static long parse_count(const char *text, const char *what) {
  char *end = NULL;
  long n = strtol(text, &end, 10);
  if (end == text || *end != '\0' || n < 0) {
    fprintf(stderr, "invalid %s: %s\n", what, text);
    exit(2);
  }
  return n;
}

/** Warm-up round trips before the measured ones: a tenth, at least 100. */
static inline long warmup_for(long iterations) {
  long w = iterations / 10;
  return w < 100 ? 100 : w;
}

static int compare_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/** Nearest-rank percentile of sorted samples (p in 0..100), as bench/lib.ts computes it. */
static uint64_t percentile(const uint64_t *sorted, long n, long p) {
  long rank = (p * n + 99) / 100 - 1;
  if (rank < 0) rank = 0;
  if (rank > n - 1) rank = n - 1;
  return sorted[rank];
}

/** Prints one JSON line, in the shape of the results of the bench/ scripts, from per-round-trip samples. */
static inline void report(const char *bench, const char *label, uint64_t *samples, long n, uint64_t total_ns) {
  qsort(samples, (size_t)n, sizeof *samples, compare_u64);
  double median = n % 2 ? (double)samples[n / 2] : ((double)samples[n / 2 - 1] + (double)samples[n / 2]) / 2;
  printf(
    "{\"bench\":\"%s\",\"runtime\":\"c\",\"case\":\"%s\",\"unit\":\"ns\",\"median\":%.1f,\"p50\":%llu,"
    "\"p99\":%llu,\"min\":%llu,\"mean\":%.1f,\"ops\":%ld,\"total_ns\":%llu}\n",
    bench, label, median, (unsigned long long)percentile(samples, n, 50),
    (unsigned long long)percentile(samples, n, 99), (unsigned long long)samples[0],
    (double)total_ns / (double)n, n, (unsigned long long)total_ns);
  fflush(stdout);
}

#endif
