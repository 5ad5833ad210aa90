// Ping-pong of 64-byte samples through iceoryx (classic, the Debian package's
// C binding) between two processes: the baseline the wshm topic is compared
// with (issue 9). RouDi, iceoryx's broker daemon, must be running already;
// bench/iceoryx.ts starts one, runs both roles against it and stops it.
//
//   iceoryx_pingpong ping|pong ITERATIONS spin|waitset [RUN]
//   iceoryx_pingpong roudi SECONDS CONFIG     (how bench/iceoryx.ts starts RouDi)
//
// Two services: "ping" (the ping process publishes, the pong process
// subscribes) and "pong" (the reverse), both of instance "run-RUN" (default
// "run-0"). Give each ping-pong against one RouDi its own RUN: RouDi removes
// the ports of a process that has ended only in its next discovery pass, and
// until then a new ping could connect to the last run's pong, take it for its
// peer and send its first sample to a process that is gone. A round trip: ping loans a 64-byte
// chunk, writes the sequence number and fills the rest, publishes it; pong
// takes it, loans its own chunk, copies the 64 bytes into it, publishes it
// and releases what it took; ping takes the answer, checks the sequence
// number and releases it. Every sample is a zero-copy iceoryx chunk.
//
//   spin     a receiver retries iox_sub_take_chunk until a chunk arrives
//            (busy-wait, no system call while it waits)
//   waitset  a receiver sleeps in an iceoryx WaitSet with its subscriber
//            attached for the state "has data" (iceoryx's blocking wait),
//            then takes the chunk
//
// Ping measures; pong answers ITERATIONS / 10 (at least 100) warm-up trips
// plus ITERATIONS and exits. Ping prints one JSON line (see common.h) after
// the last trip; then each role prints {"lost_wakeups":N}: WaitSet waits
// that ran into their 1 s timeout although the chunk was there (the take
// right after found it), which iceoryx 2.0.3 was seen to do under heavy load; both exit non-zero on any failure. WSHM_BENCH_PIN applies
// as in the other baselines (ping on the first CPU, pong on the second with
// "split"). No wait is unbounded: a reply or subscription that does not come
// within REPLY_TIMEOUT_SECONDS is an error, and alarm() ends a run that
// takes longer than WATCHDOG_SECONDS as a whole.

// common.h also holds the fork/futex helpers of the other baselines, unused here.
#pragma GCC diagnostic ignored "-Wunused-function"
#include "common.h"

#include <iceoryx_binding_c/log.h>
#include <iceoryx_binding_c/publisher.h>
#include <iceoryx_binding_c/runtime.h>
#include <iceoryx_binding_c/subscriber.h>
#include <iceoryx_binding_c/wait_set.h>

#define SAMPLE_BYTES 64
#define SERVICE "wshm-bench-iceoryx-pingpong"
/** Longest wait for one reply, for the peer's subscription, or for RouDi's answers. */
#define REPLY_TIMEOUT_SECONDS 20

enum role { ROLE_PING, ROLE_PONG };

struct endpoint {
  iox_pub_storage_t publisher_storage;
  iox_sub_storage_t subscriber_storage;
  iox_ws_storage_t waitset_storage;
  iox_pub_t publisher;
  iox_sub_t subscriber;
  iox_ws_t waitset; /* NULL in spin mode */
};

static void fail(const char *what) {
  errno = 0;
  die(what);
}

static uint64_t deadline_after(int seconds) { return now_ns() + (uint64_t)seconds * 1000000000u; }

/** Creates the publisher of `out` and the subscriber of `in` (the event names), and the WaitSet if `blocking`. */
static void open_endpoint(struct endpoint *e, const char *instance, const char *out, const char *in, int blocking) {
  iox_pub_options_t publisher_options;
  iox_pub_options_init(&publisher_options);
  // No history: a sample is for the peer that is subscribed when it is sent.
  publisher_options.historyCapacity = 0;
  e->publisher = iox_pub_init(&e->publisher_storage, SERVICE, instance, out, &publisher_options);

  iox_sub_options_t subscriber_options;
  iox_sub_options_init(&subscriber_options);
  // One sample is in flight at a time; a queue of one is enough and the smallest iceoryx allows.
  subscriber_options.queueCapacity = 1;
  subscriber_options.historyRequest = 0;
  e->subscriber = iox_sub_init(&e->subscriber_storage, SERVICE, instance, in, &subscriber_options);

  e->waitset = NULL;
  if (blocking) {
    e->waitset = iox_ws_init(&e->waitset_storage);
    if (iox_ws_attach_subscriber_state(e->waitset, e->subscriber, SubscriberState_HAS_DATA, 0, NULL) !=
        WaitSetResult_SUCCESS) {
      fail("iox_ws_attach_subscriber_state");
    }
  }
}

static void close_endpoint(struct endpoint *e) {
  if (e->waitset) {
    iox_ws_detach_subscriber_state(e->waitset, e->subscriber, SubscriberState_HAS_DATA);
    iox_ws_deinit(e->waitset);
  }
  iox_sub_deinit(e->subscriber);
  iox_pub_deinit(e->publisher);
}

/**
 * Waits until this side's subscriber is connected to the peer's publisher and
 * the peer's subscriber to this side's publisher: a sample sent earlier would
 * be lost (no history), and the ping-pong would stall.
 */
static void await_peer(struct endpoint *e) {
  uint64_t deadline = deadline_after(REPLY_TIMEOUT_SECONDS);
  while (iox_sub_get_subscription_state(e->subscriber) != SubscribeState_SUBSCRIBED ||
         !iox_pub_has_subscribers(e->publisher)) {
    if (now_ns() > deadline) fail("the peer did not subscribe in time (is RouDi running, is the peer?)");
    usleep(1000);
  }
}

/**
 * WaitSet waits that ended by their 1 s timeout and then found a chunk: wake-ups iceoryx lost. Seen about once
 * in a hundred thousand trips under heavy load; counted and reported, since each such trip takes a second.
 */
static long lost_wakeups = 0;

/** The next chunk from the peer: spinning on take, or sleeping in the WaitSet between takes. */
static const uint8_t *receive(struct endpoint *e) {
  const void *chunk = NULL;
  uint64_t deadline = deadline_after(REPLY_TIMEOUT_SECONDS);
  int timed_out = 0;
  for (uint32_t tries = 0;; tries++) {
    enum iox_ChunkReceiveResult result = iox_sub_take_chunk(e->subscriber, &chunk);
    if (result == ChunkReceiveResult_SUCCESS) {
      lost_wakeups += timed_out;
      return chunk;
    }
    if (result != ChunkReceiveResult_NO_CHUNK_AVAILABLE) fail("iox_sub_take_chunk");
    if (e->waitset) {
      if (timed_out && now_ns() > deadline) fail("no reply within the timeout (WaitSet)");
      iox_notification_info_t notifications[1];
      uint64_t missed = 0;
      struct timespec timeout = {.tv_sec = 1, .tv_nsec = 0};
      timed_out = iox_ws_timed_wait(e->waitset, timeout, notifications, 1, &missed) == 0;
    } else if ((tries & 0xffff) == 0 && now_ns() > deadline) {
      // The clock is read once per 65536 empty takes: the spin loop stays a loop of takes.
      fail("no reply within the timeout (spin)");
    }
  }
}

/** Loans a 64-byte chunk, copies `bytes` into it and publishes it. */
static void send(struct endpoint *e, const uint8_t *bytes) {
  void *chunk = NULL;
  if (iox_pub_loan_chunk(e->publisher, &chunk, SAMPLE_BYTES) != AllocationResult_SUCCESS) {
    fail("iox_pub_loan_chunk");
  }
  memcpy(chunk, bytes, SAMPLE_BYTES);
  iox_pub_publish_chunk(e->publisher, chunk);
}

/**
 * `roudi SECONDS CONFIG`: becomes iox-roudi with CONFIG, after arranging that
 * it gets SIGTERM (on which it cleans up) when the benchmark process that
 * started it dies, and SIGALRM (which ends it) after SECONDS in any case:
 * both survive execve, so not even a benchmark killed with SIGKILL leaves a
 * RouDi running for long.
 */
static int exec_roudi(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s roudi SECONDS CONFIG\n", argv[0]);
    return 2;
  }
  long seconds = parse_count(argv[2], "seconds");
  pid_t parent = getppid();
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) die("prctl");
  if (getppid() != parent) return 1; // the parent died before prctl took effect
  alarm((unsigned)(seconds > 0 ? seconds : 1));
  // Monitoring off: on this loaded 2-CPU machine a spinning peer can miss RouDi's keep-alive deadline, and
  // RouDi then removes a live process's ports. Each ping-pong has ports of its own, and this RouDi lives for
  // one benchmark only, so the ports of a peer that really died cost nothing.
  execlp("iox-roudi", "iox-roudi", "-c", argv[3], "-l", "warning", "-m", "off", (char *)NULL);
  die("exec iox-roudi");
  return 1;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "roudi") == 0) return exec_roudi(argc, argv);
  if ((argc != 4 && argc != 5) || (strcmp(argv[1], "ping") != 0 && strcmp(argv[1], "pong") != 0) ||
      (strcmp(argv[3], "spin") != 0 && strcmp(argv[3], "waitset") != 0)) {
    fprintf(stderr, "usage: %s ping|pong ITERATIONS spin|waitset [RUN]\n", argv[0]);
    return 2;
  }
  enum role role = strcmp(argv[1], "ping") == 0 ? ROLE_PING : ROLE_PONG;
  long iterations = parse_count(argv[2], "iterations");
  if (iterations < 1) iterations = 1;
  int blocking = strcmp(argv[3], "waitset") == 0;
  const char *pinning = getenv("WSHM_BENCH_PIN");
  if (!blocking && pinning && strcmp(pinning, "same") == 0) {
    fprintf(stderr, "spin ping-pong needs two CPUs: not with WSHM_BENCH_PIN=same\n");
    return 2;
  }
  char instance[64];
  snprintf(instance, sizeof instance, "run-%ld", argc == 5 ? parse_count(argv[4], "run") : 0L);
  long warmup = warmup_for(iterations);
  alarm(WATCHDOG_SECONDS);
  // Die with the benchmark process that started this one (the peers are not forked from each other).
  pid_t parent = getppid();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) die("prctl");
  if (getppid() != parent) return 1;
  pin(role == ROLE_PING ? 0 : 1);

  // iceoryx logs on stdout; only warnings and worse, so the result line stays easy to find.
  iox_set_loglevel(Iceoryx_LogLevel_Warn);
  char runtime_name[64];
  snprintf(runtime_name, sizeof runtime_name, "wshm-bench-%s-%d", argv[1], (int)getpid());
  iox_runtime_init(runtime_name);

  struct endpoint e;
  if (role == ROLE_PING) open_endpoint(&e, instance, "ping", "pong", blocking);
  else open_endpoint(&e, instance, "pong", "ping", blocking);
  await_peer(&e);

  if (role == ROLE_PONG) {
    for (long i = 0; i < warmup + iterations; i++) {
      const uint8_t *request = receive(&e);
      send(&e, request);
      iox_sub_release_chunk(e.subscriber, request);
    }
    printf("{\"lost_wakeups\":%ld}\n", lost_wakeups);
    fflush(stdout);
    close_endpoint(&e);
    iox_runtime_shutdown();
    return 0;
  }

  uint64_t *samples = malloc((size_t)iterations * sizeof *samples);
  if (!samples) die("malloc");
  uint8_t message[SAMPLE_BYTES];
  for (int i = 0; i < SAMPLE_BYTES; i++) message[i] = (uint8_t)i;
  uint64_t total = 0;
  for (long i = -warmup; i < iterations; i++) {
    uint64_t sequence = (uint64_t)(i + warmup);
    memcpy(message, &sequence, sizeof sequence);
    uint64_t started = now_ns();
    send(&e, message);
    const uint8_t *reply = receive(&e);
    uint64_t took = now_ns() - started;
    // The echo must be this trip's, byte for byte: a stale or torn sample is a failed run, not a fast one.
    if (memcmp(reply, message, SAMPLE_BYTES) != 0) fail("the reply is not the request's 64 bytes");
    iox_sub_release_chunk(e.subscriber, reply);
    if (i >= 0) {
      samples[i] = took;
      total += took;
    }
  }
  // The result first: leaving iceoryx was seen to hang under heavy load (see bench/iceoryx.ts), after the
  // measurement is complete.
  report("iceoryx_pingpong",
         blocking ? "iceoryx 64 B pub/sub round trip, WaitSet" : "iceoryx 64 B pub/sub round trip, spin", samples,
         iterations, total);
  printf("{\"lost_wakeups\":%ld}\n", lost_wakeups);
  fflush(stdout);
  free(samples);
  close_endpoint(&e);
  iox_runtime_shutdown();
  return 0;
}
