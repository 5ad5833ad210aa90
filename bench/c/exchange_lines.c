// The spin round trip of the channel's classic exchange with the JavaScript
// taken out: the same loads, stores and compare-and-swaps on the same cache
// lines as the wasm core (wasm/channel/classic.ts, wasm/semaphore,
// wasm/mutex), done by C, so that what the protocol's memory traffic costs
// can be told from what the runtimes add (bench/README.md, issue 10).
//
//   exchange_lines ITERATIONS classic|client-pid|served-on-server-line|sleeper-posts|two-lines|one-thread
//
//   classic    the classic exchange's accesses, line for line (layout:
//              wasm/channel/layout.ts): the client locks `access`, stamps
//              the 64 B request (16 words) into the buffer, writes the
//              exchange line and posts the request semaphore; the server
//              takes the permit, CASes the state, checks and answers in place
//              (the benchmark's answer(): first and last word), writes the
//              exchange line and its `served` counter, posts the response
//              semaphore; the client takes it, reads the state and the
//              answer, CASes the state back and unlocks. Also the checks each
//              core call makes (the server pid the client reads in settle,
//              the holder word, the semaphores' bounds).
//   client-pid classic as layout version 4 did it: the client also stored its
//              pid into the exchange line when it took access and 0 when it
//              gave it up (two sequentially consistent stores per round trip,
//              for inspection only; version 5 reads the mutex's word instead).
//   served-on-server-line  client-pid with the `served` counter where layout
//              version 3 kept it, on the server line, which the client reads
//              in every settle (the server pid): one more line crossing per
//              round trip, which made version 4 move it to the exchange line.
//   sleeper-posts  classic, except for the semaphores: a side posts only if
//              the other side is registered as a sleeper on that semaphore
//              (a load of its sleepers count), and a spinning side spins on
//              the state word instead of taking a permit. Not the core's
//              protocol: what a variant that kept the semaphores for parked
//              sides only would save (4 of the 10 compare-and-swaps and the
//              semaphore lines' transfers). It would need its own model.
//   two-lines  the least a 64 B exchange with a separate signal needs: the
//              state on one line, the message on the next, nothing else.
//   one-thread classic's accesses with both sides in this one thread: the
//              client's request, the server's answer, the client's end, in
//              turn, so that no line ever crosses cores and nothing waits.
//              What the exchange's own instructions cost; timed per block of
//              64 round trips (no clock read per trip). bench/channel.ts
//              sets the core's same calls, made from JavaScript in one
//              thread, beside it.
//
// Every access is a sequentially consistent atomic where the core's is
// atomic, a plain one where the core's is plain. Spinning is a plain atomic
// load loop, as the core's. Prints one JSON line (common.h) per run.

#include "common.h"

#define LINE(n) _Alignas(CACHE_LINE) uint32_t n[CACHE_LINE / 4]

struct channel {
  LINE(config);   // capacity, clients: read by every call
  LINE(access);   // mutex: lock u64 (word, generation), holder start u64, record pid, record generation
  LINE(request);  // semaphore: value, sleepers, maximum, initial, posts u64, waits u64
  LINE(response); // semaphore
  LINE(server);   // pid, record pid, start u64, served u64
  LINE(exchange); // state, request length, response length, response status, client pid, sequence
  LINE(body);     // the 64 B message, request then response in place
  LINE(ready);
};

enum { IDLE = 0, REQUESTED = 1, SERVING = 2, RESPONDED = 3 };
enum { S_VALUE = 0, S_SLEEPERS = 1, S_MAXIMUM = 2, S_POSTS = 4 };
enum { X_STATE = 0, X_REQUEST_LENGTH = 1, X_RESPONSE_LENGTH = 2, X_RESPONSE_STATUS = 3, X_CLIENT = 4, X_SEQ = 5,
       X_SERVED = 6 };
// The access mutex's words (wasm/mutex/mutex.ts): the LOCK u64 (word, generation), the holder's start time
// u64, the record pid (a sequentially consistent store: it vouches for the start time and generation before
// it), the record generation, the consistency.
enum { M_START = 2, M_RECORD_PID = 4, M_RECORD_GENERATION = 5, M_CONSISTENCY = 6 };
#define PERMITS_MAX (1u << 20)

static inline int cas32(uint32_t *p, uint32_t expected, uint32_t desired) {
  return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static inline int cas64(uint32_t *p, uint64_t expected, uint64_t desired) {
  return __atomic_compare_exchange_n((uint64_t *)p, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static inline uint32_t plain(uint32_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void set_plain(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }

static void check(int ok, const char *what) {
  if (!ok) {
    errno = 0;
    die(what);
  }
}

/** semaphorePost(1): CAS the value up, look for sleepers, count the post (plain, as the core). */
static inline void post(uint32_t *sem) {
  uint32_t v = load(&sem[S_VALUE]);
  while (!cas32(&sem[S_VALUE], v, v + 1)) v = load(&sem[S_VALUE]);
  if (load(&sem[S_SLEEPERS]) != 0) futex_wake(&sem[S_VALUE], 1);
  set_plain(&sem[S_POSTS], plain(&sem[S_POSTS]) + 1);
}

/** Mode sleeper-posts: semaphores only for sleepers (see the header). */
static int sleeper_posts;

/** sleeper-posts' post: only to a registered sleeper. */
static inline void post_to_sleeper(uint32_t *sem) {
  if (load(&sem[S_SLEEPERS]) != 0) post(sem);
}

/** sleeper-posts' spin: on the state word until it reads `state`. */
static inline void spin_for_state(struct channel *c, uint32_t state) {
  while (load(&c->exchange[X_STATE]) != state) {
  }
}

/** The permit checks and the spin of a blocking take (classicReceiveStep / classicAwaitStep, spin mode). */
static inline void take(uint32_t *sem) {
  check(load(&sem[S_VALUE]) <= PERMITS_MAX && plain(&sem[S_MAXIMUM]) == PERMITS_MAX, "permits");
  for (;;) {
    uint32_t v = load(&sem[S_VALUE]);
    if (v > 0 && cas32(&sem[S_VALUE], v, v - 1)) return;
    while (load(&sem[S_VALUE]) == 0) {
    }
  }
}

/** The client's half up to the post: lock access, settle, stamp, post the request. */
static void classic_client_request(struct channel *c, uint32_t pid, uint32_t seq, int client_pid) {
  // channelBegin: capacity and clients, then lock access (LOCK CAS, holder record).
  check(plain(&c->config[0]) == 64 && plain(&c->config[1]) == 0, "config");
  uint64_t lock = __atomic_load_n((uint64_t *)c->access, __ATOMIC_SEQ_CST);
  check((uint32_t)lock == 0, "access free");
  check(cas64(c->access, lock, ((lock >> 32) + 1) << 32 | pid), "lock");
  set_plain(&c->access[M_START], seq);
  set_plain(&c->access[M_RECORD_GENERATION], (uint32_t)(lock >> 32) + 1);
  store(&c->access[M_RECORD_PID], pid);
  check(plain(&c->access[M_CONSISTENCY]) == 0, "consistent");
  if (client_pid) store(&c->exchange[X_CLIENT], pid);
  // Settle: the state is IDLE, and a server is attached.
  check(load(&c->exchange[X_STATE]) == IDLE, "idle");
  check(load(&c->server[0]) != 0, "server attached");
  // The request, stamped by the benchmark: its number in all 16 words.
  for (int w = 0; w < 16; w++) set_plain(&c->body[w], seq);
  // channelSend: post, then await.
  check(plain(&c->config[0]) == 64, "config");
  check(load(c->access) == pid, "holder");
  check(load(&c->exchange[X_STATE]) == IDLE, "idle");
  set_plain(&c->exchange[X_REQUEST_LENGTH], 64);
  set_plain(&c->exchange[X_SEQ], plain(&c->exchange[X_SEQ]) + 1);
  check(cas32(&c->exchange[X_STATE], IDLE, REQUESTED), "requested");
  if (sleeper_posts) post_to_sleeper(c->request);
  else post(c->request);
}

/** The client's half after the post: take the response, check it, end the exchange. */
static void classic_client_response(struct channel *c, uint32_t pid, uint32_t seq, int client_pid) {
  check(load(c->access) == pid, "holder");
  if (sleeper_posts) spin_for_state(c, RESPONDED);
  else take(c->response);
  check(load(&c->exchange[X_STATE]) == RESPONDED, "responded");
  check(plain(&c->exchange[X_RESPONSE_LENGTH]) == 64, "length");
  (void)plain(&c->exchange[X_RESPONSE_STATUS]);
  // The benchmark checks the answer's first and last word.
  check(plain(&c->body[0]) == seq + 1 && plain(&c->body[15]) == seq + 1, "answer");
  // channelEnd: back to IDLE, unlock.
  check(plain(&c->config[0]) == 64, "config");
  check(load(c->access) == pid, "holder");
  check(cas32(&c->exchange[X_STATE], RESPONDED, IDLE), "idle again");
  if (client_pid) store(&c->exchange[X_CLIENT], 0);
  check(load(c->access) == pid, "holder");
  store(&c->access[M_RECORD_PID], 0);
  check(plain(&c->access[M_CONSISTENCY]) == 0, "consistent");
  uint64_t lock = __atomic_load_n((uint64_t *)c->access, __ATOMIC_SEQ_CST);
  check(cas64(c->access, lock, lock & 0xFFFFFFFF00000000u), "unlock");
}

static void classic_client(struct channel *c, uint32_t pid, uint32_t seq, int client_pid) {
  classic_client_request(c, pid, seq, client_pid);
  classic_client_response(c, pid, seq, client_pid);
}

/** `on_server_line`: the served counter where layout version 3 kept it. */
static void classic_server(struct channel *c, uint32_t pid, int on_server_line) {
  // channelReceive: geometry, the server pid, the permits, the take, the CAS.
  check(plain(&c->config[0]) == 64, "config");
  check(load(&c->server[0]) == pid, "server");
  if (sleeper_posts) spin_for_state(c, REQUESTED);
  else take(c->request);
  check(cas32(&c->exchange[X_STATE], REQUESTED, SERVING), "serving");
  check(plain(&c->exchange[X_REQUEST_LENGTH]) == 64, "length");
  uint32_t token = plain(&c->exchange[X_SEQ]);
  // answer(): check the first and last word, write them + 1 in place.
  uint32_t value = plain(&c->body[0]);
  check(plain(&c->body[15]) == value, "torn request");
  set_plain(&c->body[0], value + 1);
  set_plain(&c->body[15], value + 1);
  // channelRespond: the server pid, still SERVING with this token, the exchange line, served, CAS, post.
  check(plain(&c->config[0]) == 64, "config");
  check(load(&c->server[0]) == pid, "server");
  check(load(&c->exchange[X_STATE]) == SERVING && plain(&c->exchange[X_SEQ]) == token, "token");
  set_plain(&c->exchange[X_RESPONSE_LENGTH], 64);
  set_plain(&c->exchange[X_RESPONSE_STATUS], 0);
  uint32_t *served = on_server_line ? &c->server[4] : &c->exchange[X_SERVED];
  set_plain(served, plain(served) + 1);
  check(cas32(&c->exchange[X_STATE], SERVING, RESPONDED), "responded");
  if (sleeper_posts) post_to_sleeper(c->response);
  else post(c->response);
}

static void two_lines_client(struct channel *c, uint32_t seq) {
  for (int w = 0; w < 16; w++) set_plain(&c->body[w], seq);
  set_plain(&c->exchange[X_REQUEST_LENGTH], 64);
  store(&c->exchange[X_STATE], REQUESTED);
  while (load(&c->exchange[X_STATE]) != RESPONDED) {
  }
  check(plain(&c->body[0]) == seq + 1 && plain(&c->body[15]) == seq + 1, "answer");
}

static void two_lines_server(struct channel *c) {
  while (load(&c->exchange[X_STATE]) != REQUESTED) {
  }
  uint32_t value = plain(&c->body[0]);
  check(plain(&c->body[15]) == value, "torn request");
  set_plain(&c->body[0], value + 1);
  set_plain(&c->body[15], value + 1);
  store(&c->exchange[X_STATE], RESPONDED);
}

#define ONE_THREAD_BLOCK 64

/** Mode one-thread: both sides in turn, timed per block of ONE_THREAD_BLOCK round trips. */
static int one_thread(struct channel *c, long iterations, long warmup) {
  uint32_t pid = (uint32_t)getpid();
  store(&c->server[0], pid);
  long blocks = iterations / ONE_THREAD_BLOCK > 0 ? iterations / ONE_THREAD_BLOCK : 1;
  uint64_t *samples = malloc((size_t)blocks * sizeof *samples);
  if (!samples) die("malloc");
  uint64_t total = 0;
  uint32_t seq = 1;
  for (long b = -(warmup / ONE_THREAD_BLOCK) - 1; b < blocks; b++) {
    uint64_t started = now_ns();
    for (int i = 0; i < ONE_THREAD_BLOCK; i++, seq += 2) {
      classic_client_request(c, pid, seq, 0);
      classic_server(c, pid, 0);
      classic_client_response(c, pid, seq, 0);
    }
    if (b >= 0) {
      samples[b] = (now_ns() - started) / ONE_THREAD_BLOCK;
      total += samples[b];
    }
  }
  report("exchange_lines", "C, the classic exchange's memory accesses, one-thread", samples, blocks, total);
  free(samples);
  return 0;
}

int main(int argc, char **argv) {
  enum { CLASSIC, CLIENT_PID, SERVED_ON_SERVER_LINE, SLEEPER_POSTS, TWO_LINES, ONE_THREAD, MODES };
  const char *modes[MODES] = {"classic", "client-pid", "served-on-server-line", "sleeper-posts", "two-lines",
                              "one-thread"};
  int mode = -1;
  for (int i = 0; argc == 3 && i < MODES; i++) {
    if (strcmp(argv[2], modes[i]) == 0) mode = i;
  }
  if (mode < 0) {
    fprintf(stderr, "usage: %s ITERATIONS classic|client-pid|served-on-server-line|sleeper-posts|two-lines|one-thread\n",
            argv[0]);
    return 2;
  }
  const char *pinning = getenv("WSHM_BENCH_PIN");
  if (pinning && strcmp(pinning, "same") == 0 && mode != ONE_THREAD) {
    fprintf(stderr, "a spinning exchange needs two CPUs: not with WSHM_BENCH_PIN=same\n");
    return 2;
  }
  long iterations = parse_count(argv[1], "iterations");
  if (iterations < 1) iterations = 1;
  long warmup = warmup_for(iterations);
  alarm(WATCHDOG_SECONDS);

  struct channel *c = map_shared(sizeof(struct channel));
  c->config[0] = 64;
  c->request[S_MAXIMUM] = PERMITS_MAX;
  c->response[S_MAXIMUM] = PERMITS_MAX;
  if (mode == ONE_THREAD) return one_thread(c, iterations, warmup);
  int on_server_line = mode == SERVED_ON_SERVER_LINE;
  int client_pid = mode == CLIENT_PID || mode == SERVED_ON_SERVER_LINE;
  sleeper_posts = mode == SLEEPER_POSTS;
  if (start_peer() == 0) {
    uint32_t pid = (uint32_t)getpid();
    store(&c->server[0], pid);
    store(c->ready, 1);
    for (long i = 0; i < warmup + iterations; i++) {
      if (mode == TWO_LINES) two_lines_server(c);
      else classic_server(c, pid, on_server_line);
    }
    _exit(0);
  }

  uint64_t *samples = malloc((size_t)iterations * sizeof *samples);
  if (!samples) die("malloc");
  while (load(c->ready) == 0) sched_yield();
  uint32_t pid = (uint32_t)getpid();
  uint64_t total = 0;
  uint32_t seq = 1;
  for (long i = -warmup; i < iterations; i++, seq += 2) {
    uint64_t started = now_ns();
    if (mode == TWO_LINES) {
      two_lines_client(c, seq);
      // The next request may be written only once the server is done: RESPONDED says so.
    } else {
      classic_client(c, pid, seq, client_pid);
    }
    if (i >= 0) {
      samples[i] = now_ns() - started;
      total += samples[i];
    }
  }
  wait_peer();
  char label[96];
  snprintf(label, sizeof label, "C, the classic exchange's memory accesses, %s", modes[mode]);
  report("exchange_lines", label, samples, iterations, total);
  free(samples);
  return 0;
}
