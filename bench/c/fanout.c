// One producer broadcasting 64-byte records to N consumer processes through
// one shared ring, each consumer reading every record: the C floor for the
// topic's fan-out throughput (issue 9).
//
//   fanout MESSAGES CONSUMERS spin|yield
//
// Layout: RING_SLOTS slots of 64 bytes; `head` (records published so far) on
// its own cache line, written by the producer only; one `tail` per consumer
// (records it has finished with), each on its own line, written by that
// consumer only. The producer writes record `head` into slot head % RING_SLOTS
// once every consumer's tail is past head - RING_SLOTS (it keeps the
// smallest tail it saw and reloads the tails only when the ring looks full),
// then publishes it with a release store of head + 1, one record at a time.
// A consumer loads head (acquire), reads every record up to it (copies its 64
// bytes out and checks that it carries its own sequence number and the
// producer's pattern), then stores its tail once for the batch (release).
//
//   spin   both sides busy-wait with plain loads (no pause, no system call)
//   yield  a wait that finds nothing to do calls sched_yield() before it
//          looks again: with more processes than CPUs, a pure spinner holds
//          its CPU for a whole time slice while the process it waits for
//          cannot run
//
// Timing: every consumer maps the ring and reports ready; the producer then
// stores `start` (CLOCK_MONOTONIC) and publishes; each consumer notes when it
// has read the last record. A consumer's rate is MESSAGES / (its end -
// start). Prints one JSON line: median = the median consumer's rate in
// msg/s, min = the slowest consumer's, max = the fastest's, plus the
// producer's own rate (MESSAGES / time until it published the last record).
// No warm-up: a run of a million records is long against any start-up cost.
// Placement is the scheduler's (WSHM_BENCH_PIN is not used here: there are
// more processes than the two CPUs it can split).

#pragma GCC diagnostic ignored "-Wunused-function"
#include "common.h"

#define RING_SLOTS 4096
#define RECORD_BYTES 64
#define MAX_CONSUMERS 64

struct consumer_line {
  _Alignas(CACHE_LINE) uint64_t tail;
  uint64_t ready;
  uint64_t end_ns;
  uint64_t failed;
};

struct shared {
  _Alignas(CACHE_LINE) uint64_t head;
  _Alignas(CACHE_LINE) uint64_t start_ns;
  struct consumer_line consumers[MAX_CONSUMERS];
  _Alignas(CACHE_LINE) uint8_t slots[RING_SLOTS][RECORD_BYTES];
};

static pid_t consumer_pids[MAX_CONSUMERS];
static long consumer_count = 0;

static void kill_consumers(void) {
  for (long i = 0; i < consumer_count; i++) {
    if (consumer_pids[i] > 0) kill(consumer_pids[i], SIGKILL);
  }
}

static void fail(const char *what) {
  fprintf(stderr, "fanout: %s\n", what);
  kill_consumers();
  exit(1);
}

static inline uint64_t load_acquire(uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void store_release(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

/** The record for sequence number `n`: the number, then bytes that depend on it. */
static void fill_record(uint8_t *record, uint64_t n) {
  memcpy(record, &n, sizeof n);
  for (int i = sizeof n; i < RECORD_BYTES; i++) record[i] = (uint8_t)(n + (uint64_t)i);
}

static int record_is(const uint8_t *record, uint64_t n) {
  uint8_t expected[RECORD_BYTES];
  fill_record(expected, n);
  return memcmp(record, expected, RECORD_BYTES) == 0;
}

static void consume(struct shared *s, long me, uint64_t messages, int yield) {
  struct consumer_line *line = &s->consumers[me];
  uint8_t copy[RECORD_BYTES];
  uint64_t next = 0;
  store_release(&line->ready, 1);
  while (next < messages) {
    uint64_t head = load_acquire(&s->head);
    if (head == next) {
      if (yield) sched_yield();
      continue;
    }
    for (; next < head; next++) {
      memcpy(copy, s->slots[next % RING_SLOTS], RECORD_BYTES);
      if (!record_is(copy, next)) {
        store_release(&line->failed, next + 1);
        _exit(1);
      }
    }
    store_release(&line->tail, next);
  }
  line->end_ns = now_ns();
  _exit(0);
}

static uint64_t smallest_tail(struct shared *s, long consumers) {
  uint64_t smallest = UINT64_MAX;
  for (long i = 0; i < consumers; i++) {
    uint64_t t = load_acquire(&s->consumers[i].tail);
    if (t < smallest) smallest = t;
  }
  return smallest;
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 4 || (strcmp(argv[3], "spin") != 0 && strcmp(argv[3], "yield") != 0)) {
    fprintf(stderr, "usage: %s MESSAGES CONSUMERS spin|yield\n", argv[0]);
    return 2;
  }
  long messages_arg = parse_count(argv[1], "messages");
  long consumers = parse_count(argv[2], "consumers");
  if (messages_arg < 1 || consumers < 1 || consumers > MAX_CONSUMERS) {
    fprintf(stderr, "MESSAGES must be at least 1 and CONSUMERS 1..%d\n", MAX_CONSUMERS);
    return 2;
  }
  uint64_t messages = (uint64_t)messages_arg;
  int yield = strcmp(argv[3], "yield") == 0;
  alarm(WATCHDOG_SECONDS);

  struct shared *s = map_shared(sizeof(struct shared));
  pid_t parent = getpid();
  for (long i = 0; i < consumers; i++) {
    pid_t pid = fork();
    if (pid < 0) fail("fork");
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      consume(s, i, messages, yield);
    }
    consumer_pids[i] = pid;
    consumer_count = i + 1;
  }
  for (long i = 0; i < consumers; i++) {
    while (load_acquire(&s->consumers[i].ready) == 0) sched_yield();
  }

  uint64_t limit = 0; // records that may be written before the tails must be read again
  uint64_t start = now_ns();
  store_release(&s->start_ns, start);
  for (uint64_t n = 0; n < messages; n++) {
    while (n >= limit) {
      limit = smallest_tail(s, consumers) + RING_SLOTS;
      if (n >= limit && yield) sched_yield();
    }
    fill_record(s->slots[n % RING_SLOTS], n);
    store_release(&s->head, n + 1);
  }
  uint64_t produced = now_ns();

  double rates[MAX_CONSUMERS];
  for (long i = 0; i < consumers; i++) {
    int status = 0;
    if (waitpid(consumer_pids[i], &status, 0) != consumer_pids[i]) fail("waitpid");
    consumer_pids[i] = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      uint64_t bad = load_acquire(&s->consumers[i].failed);
      if (bad) fprintf(stderr, "fanout: consumer %ld read a wrong record %llu\n", i, (unsigned long long)(bad - 1));
      fail("a consumer failed");
    }
    rates[i] = (double)messages * 1e9 / (double)(s->consumers[i].end_ns - start);
  }
  qsort(rates, (size_t)consumers, sizeof *rates, compare_double);
  double median = consumers % 2 ? rates[consumers / 2] : (rates[consumers / 2 - 1] + rates[consumers / 2]) / 2;
  printf("{\"bench\":\"fanout\",\"runtime\":\"c\",\"case\":\"C shared-ring fan-out 64 B to %ld consumer%s, %s\","
         "\"unit\":\"msg/s\",\"median\":%.0f,\"min\":%.0f,\"max\":%.0f,\"producer\":%.0f,\"consumers\":%ld,"
         "\"messages\":%llu,\"ring_slots\":%d}\n",
         consumers, consumers == 1 ? "" : "s", argv[3], median, rates[0], rates[consumers - 1],
         (double)messages * 1e9 / (double)(produced - start), consumers, (unsigned long long)messages, RING_SLOTS);
  return 0;
}
