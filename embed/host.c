// wshm-embed: a host for the wshm core (build/core.wasm) written in C, with
// the WebAssembly engine of JavaScriptCore (Debian: libjavascriptcoregtk-4.1-dev)
// embedded through its C API. It shows that nothing about the core is tied to
// Deno, Node or Bun: any program that can give a wasm instance a shared memory
// whose pages it controls, and four host imports, runs the same protocols over
// the same segment as the TypeScript host. docs/ABI.md is the contract this
// file follows; the section banners below name the parts of it they implement.
//
//   wshm-embed CORE.wasm counter SEGMENT ITERATIONS PARTIES
//       Opens an existing segment and adds 1 to the f64 in bytes "counter"
//       ITERATIONS times, each under mutex "counter-lock", after PARTIES
//       processes have arrived at i32 bytes "arrivals" (the same protocol as
//       test/fixtures/counter.ts). Prints "done PID".
//   wshm-embed CORE.wasm ping SEGMENT ROUNDS
//       Creates SEGMENT (64 KiB) with semaphores "ping" and "pong" and bytes
//       "ball", prints "ready PID", then ROUNDS times: ball = 2r-1, post ping,
//       wait for pong, expect ball == 2r (the peer, embed/peer.ts, adds 1).
//       Prints "done ROUNDS" and removes the segment's name.
//   wshm-embed CORE.wasm serve SEGMENT CLIENTS REQUESTS
//       Creates SEGMENT (64 KiB) with channel "rpc" (capacity 256; CLIENTS 0
//       is the classic exchange, K > 0 the many-client mode), attaches as its
//       server, prints "serving PID", answers REQUESTS requests with the
//       request upper-cased, prints "served REQUESTS" and removes the name.
//   wshm-embed CORE.wasm hold SEGMENT
//       Opens SEGMENT, locks mutex "robust", prints "holding PID" and sleeps
//       until killed: a holder that dies, for the other side to detect.
//   wshm-embed CORE.wasm take SEGMENT
//       Opens SEGMENT and locks mutex "robust" (at most 10 s); prints
//       "took STATUS" (3 = OWNER_DIED: the holder's process was found dead),
//       repairs (mutexConsistent) and unlocks.

#define _GNU_SOURCE
#include <JavaScriptCore/JavaScript.h>
#include <jsc/jsc.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// ─── JavaScriptCore helpers ─────────────────────────────────────────────────

static JSGlobalContextRef ctx;
static uint8_t *base;          // real address of wasm address 0
static uint32_t segment_base;  // SEGMENT_BASE, read from the module (65536)
static JSObjectRef exports;

static void die(const char *what) {
  fprintf(stderr, "wshm-embed: %s\n", what);
  exit(1);
}

static void die_errno(const char *what) {
  fprintf(stderr, "wshm-embed: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void check_js(const char *what, JSValueRef exception) {
  if (exception == NULL) return;
  JSStringRef text = JSValueToStringCopy(ctx, exception, NULL);
  char buffer[1024] = "(unprintable)";
  if (text) JSStringGetUTF8CString(text, buffer, sizeof buffer);
  fprintf(stderr, "wshm-embed: %s: %s\n", what, buffer);
  exit(1);
}

static JSValueRef get(JSObjectRef object, const char *name) {
  JSStringRef key = JSStringCreateWithUTF8CString(name);
  JSValueRef exception = NULL;
  JSValueRef value = JSObjectGetProperty(ctx, object, key, &exception);
  JSStringRelease(key);
  check_js(name, exception);
  return value;
}

static JSObjectRef get_object(JSObjectRef object, const char *name) {
  JSValueRef value = get(object, name);
  if (!JSValueIsObject(ctx, value)) {
    fprintf(stderr, "wshm-embed: %s is not an object (missing export?)\n", name);
    exit(1);
  }
  return (JSObjectRef)value;
}

static void set(JSObjectRef object, const char *name, JSValueRef value) {
  JSStringRef key = JSStringCreateWithUTF8CString(name);
  JSObjectSetProperty(ctx, object, key, value, kJSPropertyAttributeNone, NULL);
  JSStringRelease(key);
}

static JSValueRef num(double x) { return JSValueMakeNumber(ctx, x); }
static JSValueRef u64(uint64_t x) { return JSBigIntCreateWithUInt64(ctx, x, NULL); }

// An exported global (a layout constant or status code) as a number.
static double constant(const char *name) {
  return JSValueToNumber(ctx, get(get_object(exports, name), "value"), NULL);
}

static double call(JSObjectRef function, size_t argc, const JSValueRef argv[]) {
  JSValueRef exception = NULL;
  JSValueRef result = JSObjectCallAsFunction(ctx, function, NULL, argc, argv, &exception);
  check_js("call into the core", exception);
  return JSValueToNumber(ctx, result, NULL);
}

// An exported function. It stays alive as long as `exports`, which is protected.
static JSObjectRef function(const char *name) { return get_object(exports, name); }

// ─── the host imports (docs/ABI.md, "Imports: what the host provides") ──────

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

// host.waitUs: futex(2) on the REAL address and without FUTEX_PRIVATE_FLAG,
// so that the kernel keys the wait by the shm file and offset, and a wake
// from any process that maps the segment (at any address) reaches it. The
// timeout is whole microseconds (negative: none). EINTR is retried with the
// time left (the ABI allows reporting it as woken; a C clock read is cheap):
// JavaScriptCore signals its threads (e.g. to scan their stacks).
static int futex_wait(uint32_t address, int32_t expected, int32_t timeout_us) {
  double deadline = timeout_us < 0 ? INFINITY : now_ms() + timeout_us / 1e3;
  for (;;) {
    struct timespec relative, *timeout = NULL;
    if (deadline != INFINITY) {
      double left = deadline - now_ms();
      if (left <= 0) return 2;
      relative.tv_sec = (time_t)(left / 1e3);
      relative.tv_nsec = (long)(fmod(left, 1e3) * 1e6);
      timeout = &relative;
    }
    if (syscall(SYS_futex, base + address, FUTEX_WAIT, expected, timeout, NULL, 0) == 0) return 0;
    if (errno == EAGAIN) return 1;
    if (errno == ETIMEDOUT) return 2;
    if (errno != EINTR) die_errno("futex wait");
  }
}

static JSValueRef host_wait_us(JSContextRef c, JSObjectRef f, JSObjectRef self, size_t argc,
                               const JSValueRef argv[], JSValueRef *exception) {
  (void)f, (void)self, (void)exception;
  if (argc < 3) return num(1);
  uint32_t address = (uint32_t)JSValueToNumber(c, argv[0], NULL);
  int32_t expected = (int32_t)JSValueToNumber(c, argv[1], NULL);
  int32_t timeout_us = (int32_t)JSValueToNumber(c, argv[2], NULL);
  return num(futex_wait(address, expected, timeout_us));
}

static JSValueRef host_wake(JSContextRef c, JSObjectRef f, JSObjectRef self, size_t argc,
                            const JSValueRef argv[], JSValueRef *exception) {
  (void)f, (void)self, (void)exception;
  if (argc < 2) return num(0);
  uint32_t address = (uint32_t)JSValueToNumber(c, argv[0], NULL);
  int count = (int)JSValueToNumber(c, argv[1], NULL);
  long woken = syscall(SYS_futex, base + address, FUTEX_WAKE, count, NULL, NULL, 0);
  return num(woken < 0 ? 0 : woken);
}

// host.clockUs: CLOCK_MONOTONIC in whole microseconds modulo 2^30 (the core unwraps it).
static JSValueRef host_clock_us(JSContextRef c, JSObjectRef f, JSObjectRef self, size_t argc,
                                const JSValueRef argv[], JSValueRef *exception) {
  (void)c, (void)f, (void)self, (void)argc, (void)argv, (void)exception;
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  uint64_t us = (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
  return num((double)(us & ((1u << 30) - 1)));
}

// Reads /proc/PID/stat: its state (field 3) and start time (field 22, clock
// ticks after boot). The command name (field 2) may hold spaces and ')', so
// fields are counted from the LAST ')'. Returns 0 if the process is gone.
static int proc_stat(int pid, char *state, uint64_t *start_ticks) {
  char path[64], text[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return 0;
  text[n] = 0;
  char *p = strrchr(text, ')');
  if (p == NULL || p[1] == 0) return 0;
  p += 2;
  *state = *p;
  for (int field = 3; field < 22 && p != NULL; field++) {
    p = strchr(p, ' ');
    if (p) p++;
  }
  *start_ticks = p ? strtoull(p, NULL, 10) : 0;
  return 1;
}

// host.processAlive: identity is pid AND start time, so a reused pid is not
// mistaken for a dead lock holder; a zombie has released nothing but will
// never run again, so it counts as dead.
static JSValueRef host_process_alive(JSContextRef c, JSObjectRef f, JSObjectRef self, size_t argc,
                                     const JSValueRef argv[], JSValueRef *exception) {
  (void)f, (void)self, (void)exception;
  if (argc < 2) return num(0);
  int pid = (int)JSValueToNumber(c, argv[0], NULL);
  uint64_t expected_ticks = JSValueToUInt64(c, argv[1], NULL);  // an i64 arrives as a BigInt
  if (pid <= 0) return num(0);
  char state;
  uint64_t ticks;
  if (!proc_stat(pid, &state, &ticks)) {
    // /proc may hide other users' processes (hidepid): ask the kernel instead.
    return num(kill(pid, 0) == 0 || errno == EPERM);
  }
  if (state == 'Z' || state == 'X') return num(0);
  return num(expected_ticks == 0 || ticks == expected_ticks);
}

static JSObjectRef host_function(const char *name, JSObjectCallAsFunctionCallback callback) {
  JSStringRef key = JSStringCreateWithUTF8CString(name);
  JSObjectRef f = JSObjectMakeFunctionWithCallback(ctx, key, callback);
  JSStringRelease(key);
  return f;
}

// ─── the segment (docs/ABI.md, "How to place the segment", "Creation handshake")

static int self_pid;
static uint64_t self_ticks;
static uint32_t segment_size;

static uint8_t *read_file(const char *path, size_t *length) {
  FILE *file = fopen(path, "rb");
  if (!file) die_errno(path);
  fseek(file, 0, SEEK_END);
  *length = (size_t)ftell(file);
  rewind(file);
  uint8_t *bytes = malloc(*length);
  if (!bytes || fread(bytes, 1, *length, file) != *length) die_errno(path);
  fclose(file);
  return bytes;
}

static JSObjectRef construct(JSObjectRef constructor, size_t argc, const JSValueRef argv[],
                             const char *what) {
  JSValueRef exception = NULL;
  JSObjectRef object = JSObjectCallAsConstructor(ctx, constructor, argc, argv, &exception);
  check_js(what, exception);
  // Kept in C variables, which JavaScriptCore's collector does not scan.
  JSValueProtect(ctx, object);
  return object;
}

// Creates a shared WebAssembly.Memory of size+64KiB, maps the segment file
// over its page 1 and instantiates the core over it.
static void map_and_instantiate(const char *core_path, int fd, uint32_t size) {
  JSObjectRef global = JSContextGetGlobalObject(ctx);
  JSObjectRef wasm = get_object(global, "WebAssembly");

  // Exactly size/64KiB + 1 pages, initial == maximum: a shared memory never
  // moves, so the base stays valid for the life of the process.
  JSObjectRef descriptor = JSObjectMake(ctx, NULL, NULL);
  set(descriptor, "initial", num(size / 65536 + 1));
  set(descriptor, "maximum", num(size / 65536 + 1));
  set(descriptor, "shared", JSValueMakeBoolean(ctx, true));
  JSValueRef argv[2] = {descriptor};
  JSObjectRef memory = construct(get_object(wasm, "Memory"), 1, argv, "new WebAssembly.Memory");

  // The base: JavaScriptCore's C API gives the data pointer of a typed array,
  // also over a SharedArrayBuffer (and pins it). JSObjectGetArrayBufferBytesPtr
  // refuses a SharedArrayBuffer, hence the Uint8Array.
  argv[0] = get(memory, "buffer");
  JSObjectRef view = construct(get_object(global, "Uint8Array"), 1, argv, "new Uint8Array");
  JSValueRef exception = NULL;
  base = JSObjectGetTypedArrayBytesPtr(ctx, view, &exception);
  check_js("memory base", exception);

  // Wasm addresses [65536, 65536 + size) become the segment's bytes. The
  // result must be checked: MAP_FIXED either lands exactly there or fails.
  void *at = base + 65536;
  if (mmap(at, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) != at) {
    die_errno("mmap over wasm page 1");
  }
  segment_size = size;

  size_t length;
  uint8_t *bytes = read_file(core_path, &length);
  JSObjectRef code = JSObjectMakeTypedArrayWithBytesNoCopy(
      ctx, kJSTypedArrayTypeUint8Array, bytes, length, NULL, NULL, &exception);
  check_js("module bytes", exception);
  argv[0] = code;
  JSObjectRef module = construct(get_object(wasm, "Module"), 1, argv, "new WebAssembly.Module");

  JSObjectRef env = JSObjectMake(ctx, NULL, NULL);
  set(env, "memory", memory);
  JSObjectRef host = JSObjectMake(ctx, NULL, NULL);
  set(host, "waitUs", host_function("waitUs", host_wait_us));
  set(host, "wake", host_function("wake", host_wake));
  set(host, "clockUs", host_function("clockUs", host_clock_us));
  set(host, "processAlive", host_function("processAlive", host_process_alive));
  JSObjectRef imports = JSObjectMake(ctx, NULL, NULL);
  set(imports, "env", env);
  set(imports, "host", host);
  argv[0] = module;
  argv[1] = imports;
  JSObjectRef instance = construct(get_object(wasm, "Instance"), 2, argv, "new WebAssembly.Instance");
  exports = get_object(instance, "exports");
  JSValueProtect(ctx, exports);
  segment_base = (uint32_t)constant("SEGMENT_BASE");
  if (segment_base != 65536) die("this core places the segment elsewhere than page 1");
}

// Detaching: private zero pages go back over the range, so nothing this
// process does afterwards (or JavaScriptCore freeing the memory) touches the segment.
static void detach(void) {
  void *at = base + segment_base;
  if (mmap(at, segment_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0) != at) {
    die_errno("detach");
  }
}

static void create_segment(const char *core, const char *name, uint32_t size) {
  int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) die_errno("shm_open (create)");
  int error = posix_fallocate(fd, 0, size);  // no SIGBUS later if /dev/shm is full
  if (error != 0) {
    errno = error;
    die_errno("reserve segment");
  }
  map_and_instantiate(core, fd, size);
  close(fd);
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  JSValueRef argv[4] = {num(size), num(self_pid), u64(self_ticks), num(t.tv_sec * 1e3 + t.tv_nsec / 1e6)};
  if (call(function("segmentInit"), 4, argv) != constant("OK")) die("segmentInit failed");
}

static void open_segment(const char *core, const char *name) {
  int fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
  if (fd < 0) die_errno("shm_open (open)");
  struct stat st;
  double deadline = now_ms() + 5000;
  // A creator sizes the file before it writes the header: wait for a size.
  while (fstat(fd, &st) == 0 && st.st_size == 0) {
    if (now_ms() > deadline) die("segment never got a size");
    usleep(1000);
  }
  if (st.st_size % 65536 != 0 || st.st_size > (1 << 30)) die("not a wshm segment size");
  map_and_instantiate(core, fd, (uint32_t)st.st_size);
  close(fd);
  JSObjectRef attach = function("segmentAttach");
  JSValueRef argv[3] = {num((double)st.st_size), num(self_pid), u64(self_ticks)};
  double status;
  while ((status = call(attach, 3, argv)) == constant("INITIALISING")) {
    if (now_ms() > deadline) die("segment still initialising after 5 s");
    usleep(1000);
  }
  if (status != constant("OK")) {
    fprintf(stderr, "wshm-embed: segmentAttach returned status %g\n", status);
    exit(1);
  }
}

// Finds (or creates) a named object: the name goes into the core's private
// scratch in page 0, then the directory is asked, then the entry is opened
// (objectOpen validates it into the core's private handle table). Returns
// the handle that every object export takes.
static uint32_t object(const char *kind, const char *name, double p0, double p1) {
  size_t length = strlen(name);
  memcpy(base + (uint32_t)constant("nameScratch"), name, length);
  JSValueRef lookup[2] = {num(constant(kind)), num(length)};
  double index = call(function("directoryLookup"), 2, lookup);
  if (index == -constant("NOT_FOUND")) {
    JSValueRef create[6] = {num(constant(kind)), num(length), num(p0), num(p1), num(0), num(5000)};
    index = call(function("directoryCreate"), 6, create);
    // Another process created it between our lookup and create: look again.
    if (index == -constant("EXISTS")) index = call(function("directoryLookup"), 2, lookup);
  }
  if (index < 0) {
    fprintf(stderr, "wshm-embed: object \"%s\": status %g\n", name, -index);
    exit(1);
  }
  JSValueRef open[2] = {num(index), num(constant(kind))};
  double handle = call(function("objectOpen"), 2, open);
  if (handle < 0) {
    fprintf(stderr, "wshm-embed: object \"%s\": objectOpen status %g\n", name, -handle);
    exit(1);
  }
  return (uint32_t)handle;
}

// The segment offset of an open object (its bytes, for KIND_BYTES regions).
static uint32_t offset_of(uint32_t handle) {
  JSValueRef argv[1] = {num(handle)};
  return (uint32_t)call(function("handleOffset"), 1, argv);
}

// A pointer to segment offset `offset` in this process.
static void *shared(uint32_t offset) { return base + segment_base + offset; }

// ─── the exchanges ──────────────────────────────────────────────────────────

static int counter(const char *core, const char *name, long iterations, int parties) {
  open_segment(core, name);
  uint32_t lock = object("KIND_MUTEX", "counter-lock", 0, 0);
  double *count = shared(offset_of(object("KIND_BYTES", "counter", 8, 0)));
  int32_t *arrivals = shared(offset_of(object("KIND_BYTES", "arrivals", 4, 0)));
  // Start together with the other parties, so that the mutex is contended.
  __atomic_add_fetch(arrivals, 1, __ATOMIC_SEQ_CST);
  double give_up = now_ms() + 30000;
  while (__atomic_load_n(arrivals, __ATOMIC_SEQ_CST) < parties) {
    if (now_ms() > give_up) die("the other counters never arrived");
  }
  JSObjectRef lock_fn = function("mutexLock"), unlock_fn = function("mutexUnlock");
  JSValueRef lock_args[3] = {num(lock), num(-1), num(constant("WAIT_ADAPTIVE"))};
  JSValueRef unlock_args[1] = {num(lock)};
  double ok = constant("OK");
  for (long i = 0; i < iterations; i++) {
    double status = call(lock_fn, 3, lock_args);
    if (status != ok) {
      fprintf(stderr, "wshm-embed: mutexLock returned status %g\n", status);
      return 1;
    }
    // A plain read-modify-write: only the mutex keeps the total exact. The
    // call into the core is opaque to the compiler, so this is not hoisted.
    *count += 1;
    if (call(unlock_fn, 1, unlock_args) != ok) die("mutexUnlock failed");
  }
  detach();
  printf("done %d\n", self_pid);
  return 0;
}

static int ping(const char *core, const char *name, long rounds) {
  create_segment(core, name, 65536);
  uint32_t ping_sem = object("KIND_SEMAPHORE", "ping", 0, 1);
  uint32_t pong_sem = object("KIND_SEMAPHORE", "pong", 0, 1);
  uint32_t *ball = shared(offset_of(object("KIND_BYTES", "ball", 4, 0)));
  printf("ready %d\n", self_pid);
  fflush(stdout);
  JSObjectRef post = function("semaphorePost"), wait = function("semaphoreWait");
  JSValueRef post_args[2] = {num(ping_sem), num(1)};
  JSValueRef wait_args[3] = {num(pong_sem), num(30000), num(constant("WAIT_ADAPTIVE"))};
  double ok = constant("OK");
  for (long r = 1; r <= rounds; r++) {
    // Plain store: the post's compare-and-swap publishes it to the taker.
    *ball = (uint32_t)(2 * r - 1);
    if (call(post, 2, post_args) != ok) die("semaphorePost failed");
    double status = call(wait, 3, wait_args);
    if (status != ok) {
      fprintf(stderr, "wshm-embed: round %ld: no pong (status %g)\n", r, status);
      return 1;
    }
    if (*ball != (uint32_t)(2 * r)) {
      fprintf(stderr, "wshm-embed: round %ld: ball is %u, expected %ld\n", r, *ball, 2 * r);
      return 1;
    }
  }
  detach();
  shm_unlink(name);
  printf("done %ld\n", rounds);
  return 0;
}

static int serve(const char *core, const char *name, int clients, long requests) {
  create_segment(core, name, 65536);
  uint32_t rpc = object("KIND_CHANNEL", "rpc", 256, clients);
  JSValueRef attach_args[1] = {num(rpc)};
  if (call(function("channelServerAttach"), 1, attach_args) != constant("OK")) die("channelServerAttach failed");
  printf("serving %d\n", self_pid);
  // channelReceive leaves (request offset, length, response offset, token) here.
  uint32_t *scratch = (uint32_t *)(base + (uint32_t)constant("channelScratch"));
  JSObjectRef receive = function("channelReceive"), respond = function("channelRespond");
  JSValueRef receive_args[3] = {num(rpc), num(30000), num(constant("WAIT_ADAPTIVE"))};
  for (long n = 0; n < requests; n++) {
    double r = call(receive, 3, receive_args);
    if (r < 0) {
      fprintf(stderr, "wshm-embed: request %ld: channelReceive returned status %g\n", n, -r);
      return 1;
    }
    uint32_t length = scratch[1], token = scratch[3];
    if (length > 256) die("request longer than the channel's capacity");
    // In classic mode the response area IS the request's buffer: copy first.
    char text[256];
    memcpy(text, shared(scratch[0]), length);
    // Write the response in place only while the core says the request is
    // still this server's to answer (it may have been recovered meanwhile).
    JSValueRef check_args[2] = {num(rpc), num(token)};
    if (call(function("channelResponseBuffer"), 2, check_args) < 0) continue;
    char *response = shared(scratch[2]);
    for (uint32_t i = 0; i < length; i++) {
      response[i] = text[i] >= 'a' && text[i] <= 'z' ? text[i] - 'a' + 'A' : text[i];
    }
    JSValueRef respond_args[4] = {num(rpc), num(token), num(length), num(0)};
    if (call(respond, 4, respond_args) < 0) die("channelRespond failed");
  }
  call(function("channelServerDetach"), 1, attach_args);
  detach();
  shm_unlink(name);
  printf("served %ld\n", requests);
  return 0;
}

static _Noreturn void hold(const char *core, const char *name) {
  open_segment(core, name);
  JSValueRef argv[3] = {num(object("KIND_MUTEX", "robust", 0, 0)), num(-1), num(constant("WAIT_ADAPTIVE"))};
  double status = call(function("mutexLock"), 3, argv);
  if (status != constant("OK")) die("mutexLock failed");
  printf("holding %d\n", self_pid);
  for (;;) pause();
}

static int take(const char *core, const char *name) {
  open_segment(core, name);
  uint32_t lock = object("KIND_MUTEX", "robust", 0, 0);
  JSValueRef argv[3] = {num(lock), num(10000), num(constant("WAIT_ADAPTIVE"))};
  double status = call(function("mutexLock"), 3, argv);
  // Every export answers a result >= 0 or a negated status.
  if (status == -constant("TIMED_OUT")) die("the lock was never released nor taken over");
  // OWNER_DIED: we hold the lock; a real program would repair what it guards here.
  if (status == constant("OWNER_DIED") && call(function("mutexConsistent"), 1, argv) != constant("OK")) {
    die("mutexConsistent failed");
  }
  if (call(function("mutexUnlock"), 1, argv) != constant("OK")) die("mutexUnlock failed");
  detach();
  printf("took %g\n", status);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr,
            "usage: wshm-embed CORE.wasm counter SEGMENT ITERATIONS PARTIES\n"
            "       wshm-embed CORE.wasm ping SEGMENT ROUNDS\n"
            "       wshm-embed CORE.wasm serve SEGMENT CLIENTS REQUESTS\n"
            "       wshm-embed CORE.wasm hold|take SEGMENT\n");
    return 2;
  }
  // The core imports a shared memory; JavaScriptCore hides SharedArrayBuffer
  // (and so shared wasm memories) unless told otherwise before the VM starts.
  if (!jsc_options_set_boolean("useSharedArrayBuffer", TRUE)) die("no useSharedArrayBuffer option");
  ctx = JSGlobalContextCreate(NULL);
  self_pid = getpid();
  char state;
  if (!proc_stat(self_pid, &state, &self_ticks)) die("cannot read /proc/self/stat");
  setvbuf(stdout, NULL, _IOLBF, 0);

  const char *core = argv[1], *mode = argv[2], *name = argv[3];
  if (strcmp(mode, "counter") == 0 && argc == 6) {
    return counter(core, name, atol(argv[4]), atoi(argv[5]));
  }
  if (strcmp(mode, "ping") == 0 && argc == 5) return ping(core, name, atol(argv[4]));
  if (strcmp(mode, "serve") == 0 && argc == 6) return serve(core, name, atoi(argv[4]), atol(argv[5]));
  if (strcmp(mode, "hold") == 0 && argc == 4) hold(core, name);
  if (strcmp(mode, "take") == 0 && argc == 4) return take(core, name);
  fprintf(stderr, "wshm-embed: unknown mode or wrong arguments: %s\n", mode);
  return 2;
}
