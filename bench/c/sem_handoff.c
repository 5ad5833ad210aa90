// Hand-off between two processes through a pair of counting semaphores, with
// the protocol of wasm/semaphore.ts written in C: what the wasm core's
// hand-off (bench/handoff.ts) costs without WebAssembly and without a
// JavaScript host. The parent posts "ping" and waits on "pong"; the peer
// waits on "ping" and posts "pong". One round trip = two hand-offs.
//
//   sem_handoff ITERATIONS spin-then-park|park-only [SPIN_LIMIT]
//
//   spin-then-park  a wait that finds no permit loads the value SPIN_LIMIT
//                   times (default 100, context.ts's spinLimit; bench/
//                   handoff.ts uses 20000) before it registers and parks
//   park-only       SPIN_LIMIT 0: every wait that finds no permit parks
//
// Layout: each semaphore as in semaphore.ts, one 64-byte line of its own:
//   0 value u32 (the futex word) | 4 sleepers u32 | 8 maximum u32 |
//   12 initial u32 | 16 posts u64 | 24 waits u64 (plain adds, diagnostics)
// The same steps, line for line (semaphore.ts numbers in comments); what it
// leaves out: the timeout (waits here never time out, so the core's clock
// reads in its park loop are not made) and the step API's bookkeeping.
//
// Prints one JSON line (see common.h).

#include "common.h"

struct semaphore {
  _Alignas(CACHE_LINE) uint32_t value;
  uint32_t sleepers;
  uint32_t maximum;
  uint32_t initial;
  uint64_t posts;
  uint64_t waits;
};

struct shared {
  struct semaphore ping;
  struct semaphore pong;
  _Alignas(CACHE_LINE) uint32_t ready;
};

static int spin_limit = 100;

/* semaphoreTryWait, 70-84 */
static int try_wait(struct semaphore *s) {
  uint32_t v = load(&s->value);
  while (v > 0) {
    // On failure the builtin leaves the value it found in v, as `v = old` does.
    if (__atomic_compare_exchange_n(&s->value, &v, v - 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      s->waits += 1;
      return 1;
    }
  }
  return 0;
}

/* semaphoreWaitStep, 93-106: 1 = took a permit, 0 = registered, must wait on value == 0 */
static int wait_step(struct semaphore *s, int registered) {
  if (registered) __atomic_sub_fetch(&s->sleepers, 1, __ATOMIC_SEQ_CST);
  for (;;) {
    if (try_wait(s)) return 1;
    __atomic_add_fetch(&s->sleepers, 1, __ATOMIC_SEQ_CST);
    if (load(&s->value) == 0) return 0;
    __atomic_sub_fetch(&s->sleepers, 1, __ATOMIC_SEQ_CST);
  }
}

/* semaphoreWait with no time limit, 114-133 */
static void sem_wait(struct semaphore *s) {
  if (try_wait(s)) return;
  for (int i = 0; i < spin_limit; i++) {
    if (load(&s->value) != 0 && try_wait(s)) return;
  }
  int registered = 0;
  for (;;) {
    if (wait_step(s, registered)) return;
    registered = 1;
    futex_wait(&s->value, 0);
  }
}

/* semaphorePost, 136-151 */
static void sem_post(struct semaphore *s, uint32_t count) {
  uint32_t maximum = s->maximum;
  uint32_t v = load(&s->value);
  for (;;) {
    if (count > maximum || v > maximum - count) {
      errno = 0;
      die("semaphore overflow");
    }
    if (__atomic_compare_exchange_n(&s->value, &v, v + count, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) break;
  }
  s->posts += count;
  if (load(&s->sleepers) != 0) futex_wake(&s->value, (int)count);
}

static void sem_init(struct semaphore *s, uint32_t initial, uint32_t maximum) {
  s->maximum = maximum;
  s->initial = initial;
  s->value = initial;
}

int main(int argc, char **argv) {
  int spin_then_park = argc >= 3 && strcmp(argv[2], "spin-then-park") == 0;
  int park_only = argc >= 3 && strcmp(argv[2], "park-only") == 0;
  if (argc < 3 || argc > 4 || (!spin_then_park && !park_only)) {
    fprintf(stderr, "usage: %s ITERATIONS spin-then-park|park-only [SPIN_LIMIT]\n", argv[0]);
    return 2;
  }
  long iterations = parse_count(argv[1], "iterations");
  if (iterations < 1) iterations = 1;
  if (argc == 4) spin_limit = (int)parse_count(argv[3], "spin limit");
  if (park_only) spin_limit = 0;
  long warmup = warmup_for(iterations);
  alarm(WATCHDOG_SECONDS);

  struct shared *s = map_shared(sizeof(struct shared));
  sem_init(&s->ping, 0, 1);
  sem_init(&s->pong, 0, 1);
  if (start_peer() == 0) {
    store(&s->ready, 1);
    for (long i = 0; i < warmup + iterations; i++) {
      sem_wait(&s->ping);
      sem_post(&s->pong, 1);
    }
    _exit(0);
  }

  uint64_t *samples = malloc((size_t)iterations * sizeof *samples);
  if (!samples) die("malloc");
  while (load(&s->ready) == 0) sched_yield();
  uint64_t total = 0;
  for (long i = -warmup; i < iterations; i++) {
    uint64_t started = now_ns();
    sem_post(&s->ping, 1);
    sem_wait(&s->pong);
    if (i >= 0) {
      samples[i] = now_ns() - started;
      total += samples[i];
    }
  }
  wait_peer();
  char label[96];
  snprintf(label, sizeof label, "C semaphore round trip, %s (spin limit %d)",
           park_only ? "park-only" : "spin-then-park", spin_limit);
  report("handoff", label, samples, iterations, total);
  free(samples);
  return 0;
}
