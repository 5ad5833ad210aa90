// Ping-pong between two processes on one shared word: the floor that any
// cross-process round trip is measured against.
//
//   pingpong ITERATIONS park|spin|pinned
//
//   park  each side sleeps in FUTEX_WAIT until the other stores its turn and
//         calls FUTEX_WAKE (a wake on every hand-off, whether or not the
//         other side sleeps yet): two futex wake-ups per round trip
//   spin  each side busy-waits with plain atomic loads (no pause
//         instruction, like the wasm core's spin loops): no system call
//   pinned  spin, with the two processes pinned to two different CPUs
//         (sched_setaffinity, as WSHM_BENCH_PIN=split), reporting the one-way
//         latency as half of each round trip: the way iceoryx2 publishes
//         its latency figures
//
// Layout: one 32-bit word `turn` on its own cache line: 0 = the parent's
// turn (pong arrived), 1 = the peer's turn (ping sent). The parent writes 1,
// the peer writes 0; each reads the other's store (sequentially consistent).
//
// Prints one JSON line (see common.h): per-round-trip median, p50, p99, min
// and mean in nanoseconds, after ITERATIONS / 10 (at least 100) warm-up trips.

#include "common.h"

struct shared {
  _Alignas(CACHE_LINE) uint32_t turn;
  _Alignas(CACHE_LINE) uint32_t ready;
};

static void await_turn(uint32_t *turn, uint32_t value, int park) {
  for (;;) {
    uint32_t seen = load(turn);
    if (seen == value) return;
    if (park) futex_wait(turn, seen);
  }
}

static void give_turn(uint32_t *turn, uint32_t value, int park) {
  store(turn, value);
  if (park) futex_wake(turn, 1);
}

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[2], "park") != 0 && strcmp(argv[2], "spin") != 0 &&
                    strcmp(argv[2], "pinned") != 0)) {
    fprintf(stderr, "usage: %s ITERATIONS park|spin|pinned\n", argv[0]);
    return 2;
  }
  int pinned = strcmp(argv[2], "pinned") == 0;
  // pin() in common.h reads the placement from the environment; pinned mode always splits.
  if (pinned && setenv("WSHM_BENCH_PIN", "split", 1) != 0) die("setenv");
  long iterations = parse_count(argv[1], "iterations");
  if (iterations < 1) iterations = 1;
  int park = strcmp(argv[2], "park") == 0;
  const char *pinning = getenv("WSHM_BENCH_PIN");
  if (!park && pinning && strcmp(pinning, "same") == 0) {
    fprintf(stderr, "spin ping-pong needs two CPUs: not with WSHM_BENCH_PIN=same\n");
    return 2;
  }
  long warmup = warmup_for(iterations);
  alarm(WATCHDOG_SECONDS);

  struct shared *s = map_shared(sizeof(struct shared));
  if (start_peer() == 0) {
    store(&s->ready, 1);
    for (long i = 0; i < warmup + iterations; i++) {
      await_turn(&s->turn, 1, park);
      give_turn(&s->turn, 0, park);
    }
    _exit(0);
  }

  uint64_t *samples = malloc((size_t)iterations * sizeof *samples);
  if (!samples) die("malloc");
  while (load(&s->ready) == 0) sched_yield();
  uint64_t total = 0;
  for (long i = -warmup; i < iterations; i++) {
    uint64_t started = now_ns();
    give_turn(&s->turn, 1, park);
    await_turn(&s->turn, 0, park);
    if (i >= 0) {
      samples[i] = now_ns() - started;
      total += samples[i];
    }
  }
  wait_peer();
  if (pinned) {
    // One way is half a round trip (the two halves are alike: the same store and load, mirrored).
    for (long i = 0; i < iterations; i++) samples[i] /= 2;
    report("pingpong", "C spin ping-pong one-way (half a round trip), pinned to two CPUs", samples, iterations,
           total / 2);
  } else {
    report("pingpong", park ? "C futex ping-pong round trip, park" : "C spin ping-pong round trip, spin",
           samples, iterations, total);
  }
  free(samples);
  return 0;
}
