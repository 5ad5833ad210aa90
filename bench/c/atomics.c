// The C side of primitives.ts's instruction rows: one memory instruction in a
// loop, as the wasm probe (bench/_wasm_probe.ts) makes it, on a shared
// mapping: a sequentially consistent load, store and compare-and-swap (what
// the wasm core's i32.atomic.* are specified as), and plain ones.
//
//   atomics ITERATIONS atomic-load|plain-load|atomic-store|plain-store|compare-exchange
//
// Prints one JSON line (common.h): the median of 9 blocks, in ns per
// instruction.

#include "common.h"

enum { ATOMIC_LOAD, PLAIN_LOAD, ATOMIC_STORE, PLAIN_STORE, COMPARE_EXCHANGE, OPS };
static const char *ops[OPS] = {"atomic-load", "plain-load", "atomic-store", "plain-store", "compare-exchange"};

/** One block of `n` instructions `op` on `word`; returns a sum so that nothing is left out. */
static __attribute__((noinline)) uint32_t block(int op, volatile uint32_t *word, long n) {
  uint32_t sum = 0;
  uint32_t *w = (uint32_t *)word;
  for (long i = 0; i < n; i++) {
    switch (op) {
    case ATOMIC_LOAD: sum += __atomic_load_n(w, __ATOMIC_SEQ_CST); break;
    case PLAIN_LOAD: sum += *word; break;
    case ATOMIC_STORE: __atomic_store_n(w, (uint32_t)i, __ATOMIC_SEQ_CST); break;
    case PLAIN_STORE: *word = (uint32_t)i; break;
    default: {
      uint32_t expected = (uint32_t)i;
      __atomic_compare_exchange_n(w, &expected, (uint32_t)i + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
      sum += expected;
    }
    }
  }
  return sum;
}

int main(int argc, char **argv) {
  int op = -1;
  for (int i = 0; argc == 3 && i < OPS; i++) {
    if (strcmp(argv[2], ops[i]) == 0) op = i;
  }
  if (op < 0) {
    fprintf(stderr, "usage: %s ITERATIONS atomic-load|plain-load|atomic-store|plain-store|compare-exchange\n",
            argv[0]);
    return 2;
  }
  long iterations = parse_count(argv[1], "iterations");
  long n = iterations / 9 > 0 ? iterations / 9 : 1;
  uint32_t *word = map_shared(CACHE_LINE);
  uint64_t samples[9];
  uint64_t total = 0;
  uint32_t sum = block(op, word, n);
  for (int b = 0; b < 9; b++) {
    uint64_t started = now_ns();
    sum += block(op, word, n);
    samples[b] = (now_ns() - started) * 1000 / (uint64_t)n; // picoseconds per instruction
    total += samples[b];
  }
  // The JSON line's unit is ns: report() prints integers, so the samples are in ps and scaled here.
  qsort(samples, 9, sizeof *samples, compare_u64);
  printf("{\"bench\":\"atomics\",\"runtime\":\"c\",\"case\":\"C %s\",\"unit\":\"ns\",\"median\":%.3f,\"sum\":%u}\n",
         ops[op], (double)samples[4] / 1000, sum);
  (void)total;
  return 0;
}
