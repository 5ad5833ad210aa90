// The C baseline of ring.ts's "ring, 64 B, batched" case: a single-producer
// single-consumer ring between two processes over one shared mapping, doing
// the same work per message as the wshm ring case: the producer writes each
// 64-byte message as its sequence number in all 16 words behind an 8-byte
// record header (length, type), 256 records per claim; the consumer checks
// each record's length and number and releases what it read, up to 256 at a
// time. Both sides busy-wait, yielding the CPU (sched_yield) after 4096 loads
// that found nothing (the wshm case waits adaptively: it spins, then parks). What it leaves out and wshm does: bounds checks against the
// object's extent, variable-length records, wrap-around padding, roles.
//
//   spsc_ring MESSAGES      one JSON line: {"bench":"ring","runtime":"c",
//                           "case":"C SPSC ring, 64 B, batched","unit":"msgs/s","median":...}
// The median is the rate of the whole run after a tenth as warm-up (one
// figure per run; the scripts take the median over runs).

#include "common.h"

#define RECORD_BYTES 72 /* 8-byte header + 64 bytes of message */
#define SLOTS 16384     /* records in the ring (about 1.2 MiB, like the wshm case's 1 MiB) */
#define BATCH 256
/** Loads before a waiting side yields its CPU: a pure spin collapses when the machine is oversubscribed. */
#define SPINS_BEFORE_YIELD 4096

struct ring {
  uint32_t head; /* records consumed (the consumer writes it) */
  char pad0[CACHE_LINE - 4];
  uint32_t tail; /* records published (the producer writes it) */
  char pad1[CACHE_LINE - 4];
  uint32_t ready;
  char pad2[CACHE_LINE - 4];
  unsigned char slots[SLOTS][RECORD_BYTES];
};

static void produce(struct ring *r, long total) {
  uint32_t tail = 0;
  for (long sent = 0; sent < total;) {
    long batch = total - sent < BATCH ? total - sent : BATCH;
    for (int spins = 0; tail - load(&r->head) > SLOTS - (uint32_t)batch; spins++) {
      if (spins >= SPINS_BEFORE_YIELD) sched_yield(); /* no room */
    }
    for (long i = 0; i < batch; i++) {
      uint32_t *record = (uint32_t *)r->slots[(tail + i) % SLOTS];
      record[0] = 64;
      record[1] = 0;
      uint32_t seq = (uint32_t)(sent + i);
      for (int w = 0; w < 16; w++) record[2 + w] = seq;
    }
    tail += (uint32_t)batch;
    __atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
    sent += batch;
  }
}

/** Records consumed so far (also the number the next one must hold), across calls. */
static uint32_t head = 0;

static long consume(struct ring *r, long total) {
  long bad = 0;
  for (long got = 0; got < total;) {
    uint32_t available;
    for (int spins = 0; (available = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) - head) == 0; spins++) {
      if (spins >= SPINS_BEFORE_YIELD) sched_yield(); /* empty */
    }
    if (available > BATCH) available = BATCH;
    if (available > (uint32_t)(total - got)) available = (uint32_t)(total - got);
    for (uint32_t i = 0; i < available; i++) {
      const uint32_t *record = (const uint32_t *)r->slots[(head + i) % SLOTS];
      if (record[0] != 64 || record[2] != head + i) bad++;
    }
    head += available;
    __atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
    got += available;
  }
  return bad;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MESSAGES\n", argv[0]);
    return 2;
  }
  long messages = parse_count(argv[1], "messages");
  if (messages < BATCH) messages = BATCH;
  long warmup = messages / 10;
  alarm(WATCHDOG_SECONDS);
  struct ring *r = map_shared(sizeof(struct ring));
  if (start_peer() == 0) {
    store(&r->ready, 1);
    produce(r, warmup + messages);
    _exit(0);
  }
  while (load(&r->ready) == 0) sched_yield();
  long bad = consume(r, warmup);
  uint64_t started = now_ns();
  bad += consume(r, messages);
  uint64_t elapsed = now_ns() - started;
  wait_peer();
  if (bad) {
    errno = 0;
    die("a record held the wrong number");
  }
  double rate = (double)messages * 1e9 / (double)elapsed;
  printf("{\"bench\":\"ring\",\"runtime\":\"c\",\"case\":\"C SPSC ring, 64 B, batched\",\"unit\":\"msgs/s\","
         "\"median\":%.0f,\"p50\":%.0f,\"p99\":%.0f,\"min\":%.0f,\"mean\":%.0f,\"ops\":%ld,\"total_ns\":%llu}\n",
         rate, rate, rate, rate, rate, messages, (unsigned long long)elapsed);
  return 0;
}
