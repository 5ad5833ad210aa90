/**
 * A named POSIX shared-memory segment mapped into this process at wasm page 1,
 * with the core instantiated over it.
 *
 * @module
 */

import { platform, type Posix } from "./platform/mod.ts";
import { checkHeaderBytes, type Core, type CoreConstants, coreConstants, instantiateCore } from "./core.ts";
import { argumentError, WshmError } from "./errors.ts";
import {
  booleanOption,
  checkInteger,
  checkObjectNameType,
  checkOptions,
  checkSegmentName,
  checkSegmentSize,
  objectNameBytes,
  shown,
} from "./names.ts";
import { checkOwner, resolveGroup, resolveTrust, type TrustOwner } from "./trust.ts";
import { statusError } from "./status.ts";
import { Mutex } from "./mutex.ts";
import { Semaphore, type SemaphoreOptions } from "./semaphore.ts";
import { RwLock } from "./rwlock.ts";
import { Event } from "./event.ts";
import { Ring, type RingOptions } from "./ring.ts";
import { Queue, type QueueOptions } from "./queue.ts";
import { Channel, type ChannelOptions } from "./channel.ts";
import { spinsFor, timeoutOption, type WaitMode } from "./wait.ts";

// Loaded once per process; an unsupported platform is reported when used, not on import.
const loadedPosix: Posix | WshmError = await platform().catch((e) => e);

function posix(): Posix {
  if (loadedPosix instanceof Error) throw loadedPosix;
  return loadedPosix;
}

/** Options of {@linkcode Segment.create}. */
export interface CreateOptions {
  /** Bytes, rounded up to a multiple of 64 KiB; at most 1 GiB. */
  size: number;
  /**
   * Permission bits of the /dev/shm file; default 0o600 (only this user).
   * For a group of users, 0o660 with `group`.
   */
  mode?: number;
  /**
   * The group the file is given (a gid, or a group name from /etc/group);
   * default: the creator's. A user who is not root may name only a group
   * they are a member of (else `PermissionDenied`).
   */
  group?: number | string;
  /**
   * true (default): fail with `Exists` if the name is taken. false: open the
   * existing segment instead (its size, mode and group are then the existing
   * ones), with the trust rules of {@linkcode Segment.open} and `trustOwner`.
   */
  exclusive?: boolean;
  /** With `exclusive: false`: the owner an existing segment may have, as in {@linkcode OpenOptions}. */
  trustOwner?: TrustOwner;
}

/** Options of {@linkcode Segment.open}. */
export interface OpenOptions {
  /** How long to wait for a segment whose creator is still initialising it; default 1000 ms. */
  timeoutMs?: number;
  /**
   * Whose segment to accept besides your own: a uid, a user name from
   * /etc/passwd, or `"any"`. Default: only segments owned by this process's
   * effective uid; another owner's gives `ForeignOwner` (root included: a
   * segment of another user is foreign to root too). Its owner can write
   * every byte of it, so name only a user you trust with what you send.
   */
  trustOwner?: TrustOwner;
}

/** How long creating an object waits for the directory lock unless told otherwise. */
const DEFAULT_CREATE_TIMEOUT_MS = 1000;

/** Options every object accessor takes (`segment.mutex(name, options)` and the like). */
export interface ObjectOptions {
  /** false: fail with `NotFound` instead of creating the object; default true. */
  create?: boolean;
  /**
   * How long creating the object may wait for the directory lock (another
   * process creating an object at the same moment); default 1000 ms, then `Timeout`.
   */
  timeoutMs?: number;
}

/** One named object in a segment's directory. */
export interface ObjectInfo {
  name: string;
  /** "bytes", "mutex", "semaphore", "rwlock", "event", "ring", "queue" or "channel". */
  kind: string;
  /** Offset from the start of the segment. */
  offset: number;
  size: number;
  /** Its directory entry (0 to DIR_CAPACITY - 1). */
  index: number;
}

const KIND_NAMES = ["", "bytes", "mutex", "semaphore", "rwlock", "event", "ring", "queue", "channel"];

/** The name of an object kind number, as shown by `objects()`. */
export function kindName(kind: number): string {
  return KIND_NAMES[kind] ?? `kind ${kind}`;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const decoder = new TextDecoder();

/**
 * A mapped segment. Create one with {@linkcode Segment.create}, attach to an
 * existing one with {@linkcode Segment.open}; close it (or let `using` do so)
 * to unmap it. Objects inside are reached by name: `segment.mutex("jobs")`.
 *
 * @example
 * ```ts
 * import { Segment } from "./mod.ts";
 * using segment = Segment.create("/example", { size: 1 << 20 });
 * const counter = new DataView(segment.bytes("counter", 8).buffer);
 * using held = segment.mutex("counter-lock").lock();
 * segment.unlink(); // the name goes now; the memory when the last process closes
 * ```
 */
export class Segment implements Disposable {
  /** The name, as given ("/jobs"). */
  readonly name: string;
  /** Size in bytes of the shared part. */
  readonly size: number;
  /** True if this call created the segment, false if it opened an existing one. */
  readonly created: boolean;
  /** The WebAssembly memory: page 0 is private, the segment starts at `constants.SEGMENT_BASE`. */
  readonly memory: WebAssembly.Memory;
  /** The core instance bound to this segment (advanced use: see docs/ABI.md). */
  readonly core: Core;
  /** The core's layout and status constants. */
  readonly constants: CoreConstants;
  /** The real address of wasm address 0 in this process. */
  readonly base: number;
  /** The platform layer of this process. */
  readonly posix: Posix;
  #closed = false;
  // The open objects of this handle, by "kind:name", so that asking twice gives one object.
  readonly #objects = new Map<string, unknown>();

  private constructor(
    name: string,
    size: number,
    created: boolean,
    memory: WebAssembly.Memory,
    base: number,
    core: Core,
  ) {
    this.name = name;
    this.size = size;
    this.created = created;
    this.memory = memory;
    this.base = base;
    this.core = core;
    this.constants = coreConstants();
    this.posix = posix();
  }

  /**
   * Creates a segment and maps it. Fails with `Exists` if the name is taken
   * (unless `exclusive: false`), `InvalidName`, `InvalidSize`,
   * `PermissionDenied` or `NoSpace`. On failure nothing is left in /dev/shm.
   * The file is created 0o600 and given its group and mode before anything
   * else can open it.
   *
   * @example
   * ```ts
   * import { Segment } from "./mod.ts";
   * using segment = Segment.create("/jobs", { size: 4 << 20 });
   * // For the users of one group: Segment.create("/jobs", { size, mode: 0o660, group: "jobs" })
   * ```
   */
  static create(name: string, options: CreateOptions): Segment {
    checkSegmentName(name);
    if (typeof options !== "object" || options === null) {
      throw argumentError(
        "type",
        `Segment.create() needs an options object with a size, such as { size: 1 << 20 }, not ${
          shown(options)
        }`,
      );
    }
    const k = coreConstants();
    const size = checkSegmentSize(options.size, k.PAGE_SIZE, k.SEGMENT_MAX_SIZE);
    const mode = options.mode ?? 0o600;
    if (typeof mode !== "number") {
      throw argumentError(
        "type",
        `Invalid mode ${shown(mode)}: it must be permission bits (a number) such as 0o600`,
      );
    }
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
      throw argumentError("range", `Invalid mode ${mode}: it must be permission bits from 0 to 0o777`);
    }
    const exclusive = booleanOption(options.exclusive, "exclusive", true);
    const os = posix();
    const group = resolveGroup(options.group, os);
    // Checked now, so that a bad value fails whether or not the name is taken.
    resolveTrust(options.trustOwner, os);
    let fd: number;
    try {
      // Only this user until the group and mode are set below.
      fd = os.shmCreate(name, 0o600);
    } catch (error) {
      if (error instanceof WshmError && error.code === "Exists") {
        if (!exclusive) return Segment.open(name, { trustOwner: options.trustOwner });
        throw new WshmError("Exists", `Cannot create segment "${name}": it exists already`, {
          errno: error.errno,
        });
      }
      throw error;
    }
    let memory: WebAssembly.Memory | undefined;
    let base = 0;
    try {
      if (group !== undefined) os.chownGroup(fd, group, name);
      os.chmod(fd, mode, name);
      os.reserve(fd, size, name);
      ({ memory, base } = mapInto(os, fd, size, name));
      const core = instantiateCore(memory, base, os);
      const status = core.segmentInit(size, os.pid, os.startTicks, Date.now());
      if (status !== k.OK) throw statusError(status, `Cannot initialise segment "${name}"`);
      return new Segment(name, size, true, memory, base, core);
    } catch (error) {
      if (memory !== undefined) os.mapPrivate(base + k.SEGMENT_BASE, size);
      try {
        os.shmUnlink(name);
      } catch {
        // Already gone: someone removed it while we failed; nothing is left either way.
      }
      throw error;
    } finally {
      os.close(fd);
    }
  }

  /**
   * Opens an existing segment and checks it before any use: magic, layout
   * version, the size its header states against the file's size, and the
   * bounds of every directory entry. Waits up to `timeoutMs` for a segment
   * whose creator is still initialising it. Refuses with `ForeignOwner` a
   * segment owned by another user than this process's effective uid, unless
   * `trustOwner` names that user (or is `"any"`).
   *
   * @example
   * ```ts
   * import { Segment } from "./mod.ts";
   * using segment = Segment.open("/jobs", { timeoutMs: 2000 });
   * // A segment that user "jobs" created: Segment.open("/jobs", { trustOwner: "jobs" })
   * ```
   */
  static open(name: string, options?: OpenOptions): Segment {
    checkSegmentName(name);
    const opts = checkOptions(options, "Segment.open()");
    const timeoutMs = opts.timeoutMs ?? 1000;
    if (typeof timeoutMs !== "number") {
      throw argumentError("type", `Invalid timeoutMs ${shown(timeoutMs)}: it must be a number >= 0`);
    }
    if (!(timeoutMs >= 0)) {
      throw argumentError("range", `Invalid timeoutMs ${timeoutMs}: it must be a number >= 0`);
    }
    const os = posix();
    const trust = resolveTrust(opts.trustOwner, os);
    const k = coreConstants();
    const fd = os.shmOpen(name);
    try {
      // Before a byte of it is read: whoever owns it decides what it says.
      checkOwner(os.stat(fd, name), trust, os, name);
      const deadline = performance.now() + timeoutMs;
      let size: number;
      while ((size = checkHeader(os, fd, name, k)) === 0) {
        if (performance.now() >= deadline) {
          throw new WshmError(
            "Timeout",
            `Cannot open segment "${name}": it is still being initialised after ${timeoutMs} ms` +
              " (its creator may have died; remove it with `wshm rm` if so)",
          );
        }
        sleepSync(1);
      }
      const { memory, base } = mapInto(os, fd, size, name);
      const core = instantiateCore(memory, base, os);
      const status = core.segmentAttach(size, os.pid, os.startTicks);
      if (status !== k.OK) {
        os.mapPrivate(base + k.SEGMENT_BASE, size);
        throw statusError(status, `Cannot open segment "${name}"`);
      }
      return new Segment(name, size, false, memory, base, core);
    } finally {
      os.close(fd);
    }
  }

  /**
   * Removes a segment's name from /dev/shm. Processes that have it mapped keep
   * using it; the memory is freed when the last one closes.
   *
   * @example
   * ```ts
   * import { Segment } from "./mod.ts";
   * Segment.unlink("/jobs");
   * ```
   */
  static unlink(name: string): void {
    checkSegmentName(name);
    posix().shmUnlink(name);
  }

  /** True once `close()` has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws `Closed` if this handle has been closed. */
  assertOpen(): void {
    if (this.#closed) {
      throw new WshmError("Closed", `Segment "${this.name}" is closed`);
    }
  }

  /**
   * Releases the roles its objects hold (see each object's `detach()`), then
   * unmaps the segment from this process. Views handed out before keep their
   * memory but no longer reach the segment. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    // Give up the roles this handle holds (ring producer or consumer, channel
    // server or client slot) while the memory is still mapped, so that peers
    // need not wait for this process to die to take them over.
    for (const object of this.#objects.values()) {
      const detach = (object as { detach?: () => void }).detach;
      if (typeof detach === "function") {
        try {
          detach.call(object);
        } catch {
          // A role that cannot be released cleanly is recovered by liveness checks instead.
        }
      }
    }
    this.#closed = true;
    this.#objects.clear();
    this.posix.mapPrivate(this.base + this.constants.SEGMENT_BASE, this.size);
  }

  /** Removes this segment's name (see {@linkcode Segment.unlink}); NotFound is ignored. */
  unlink(): void {
    try {
      this.posix.shmUnlink(this.name);
    } catch (error) {
      if (!(error instanceof WshmError && error.code === "NotFound")) throw error;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The pid of the process that created the segment. */
  get creatorPid(): number {
    return this.view().getUint32(this.constants.HEADER_CREATOR_PID, true);
  }

  /** When the segment was created. */
  get createdAt(): Date {
    return new Date(this.view().getFloat64(this.constants.HEADER_CREATED_MS, true));
  }

  /** A DataView over the shared part (offset 0 is the segment's first byte). */
  view(): DataView {
    this.assertOpen();
    return new DataView(this.memory.buffer, this.constants.SEGMENT_BASE, this.size);
  }

  /**
   * The objects in the directory, in creation order of their entries. The
   * directory is read as it is now, and any peer may have written it: an
   * entry that fails validation (a name length of 0 or over NAME_MAX, an
   * unknown kind, an offset or size outside the objects area) throws
   * `Corrupt` naming the entry, rather than being skipped, since a segment
   * whose directory is damaged is not one to go on using.
   */
  objects(): ObjectInfo[] {
    const k = this.constants;
    const view = this.view();
    const list: ObjectInfo[] = [];
    for (let i = 0; i < k.DIR_CAPACITY; i++) {
      const kind = this.core.entryKind(i);
      if (kind === 0) continue;
      const entry = k.HEADER_DIRECTORY + i * k.DIR_ENTRY_SIZE;
      const length = view.getUint32(entry + k.ENTRY_NAME_LENGTH, true);
      const offset = this.core.entryOffset(i) >>> 0;
      const size = this.core.entrySize(i) >>> 0;
      const problem = length === 0 || length > k.NAME_MAX
        ? `a name length of ${length} (1 to ${k.NAME_MAX})`
        : kind < 1 || kind >= KIND_NAMES.length
        ? `an unknown kind ${kind}`
        : !this.#withinObjects(offset, size)
        ? `offset ${offset} and size ${size}, outside the objects area (${k.HEADER_SIZE} to ${this.size})`
        : undefined;
      if (problem !== undefined) {
        throw new WshmError(
          "Corrupt",
          `Cannot list the objects of segment "${this.name}": directory entry ${i} has ${problem}`,
        );
      }
      const nameBytes = new Uint8Array(this.memory.buffer, k.SEGMENT_BASE + entry + k.ENTRY_NAME, length);
      list.push({ name: decoder.decode(nameBytes.slice()), kind: kindName(kind), offset, size, index: i });
    }
    return list;
  }

  /** True if `[offset, offset + size)` lies after the header and inside the segment (no wrap: Numbers). */
  #withinObjects(offset: number, size: number): boolean {
    return offset >= this.constants.HEADER_SIZE && offset + size <= this.size;
  }

  /**
   * Checks what every object accessor takes: a name that is a string (the
   * rest of it is checked on lookup), an options object, a boolean `create`,
   * a `timeoutMs` and, for the queue kinds, a wait mode.
   */
  #checkAccess(name: unknown, options: unknown, what: string, wait?: unknown): void {
    checkObjectNameType(name);
    const o = checkOptions(options as { create?: unknown; timeoutMs?: unknown } | undefined, `${what}()`);
    booleanOption(o.create, "create", true);
    if (o.timeoutMs !== undefined) timeoutOption(o.timeoutMs as number);
    if (wait !== undefined) spinsFor(this.constants, wait as "adaptive");
  }

  /**
   * Finds the object `name` of `kind`, creating it with parameters `p0..p2`
   * if it does not exist (unless `options.create` is false), then opens it
   * through the core, which validates its directory entry and keeps the
   * extent in a private table. Returns the handle every object call passes,
   * with the object's offset and size. Creating waits at most
   * `options.timeoutMs` (default 1000) for the directory lock.
   * For object classes; users call `mutex()`, `bytes()` and the like.
   */
  findOrCreate(
    kind: number,
    name: string,
    options: ObjectOptions,
    p0 = 0,
    p1 = 0,
    p2 = 0,
  ): { handle: number; offset: number; size: number; created: boolean } {
    this.assertOpen();
    const k = this.constants;
    const create = options.create ?? true;
    const timeoutMs = options.timeoutMs ?? DEFAULT_CREATE_TIMEOUT_MS;
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0)) {
      throw new RangeError(`Invalid timeoutMs ${String(timeoutMs)}: it must be a number >= 0`);
    }
    const bytes = objectNameBytes(name, k.NAME_MAX);
    new Uint8Array(this.memory.buffer, this.core.nameScratch.value, bytes.length).set(bytes);
    const what = `Cannot open ${kindName(kind)} "${name}" in segment "${this.name}"`;
    for (let attempt = 0; attempt < 2; attempt++) {
      let index = this.core.directoryLookup(kind, bytes.length);
      let created = false;
      if (index === -k.NOT_FOUND && create) {
        index = this.core.directoryCreate(kind, bytes.length, p0, p1, p2, timeoutMs);
        // Another process created it between our lookup and create: look again.
        if (index === -k.EXISTS) continue;
        created = true;
      }
      if (index < 0) throw statusError(index, what);
      const handle = this.core.objectOpen(index, kind);
      if (handle < 0) throw statusError(handle, what);
      return { handle, offset: this.core.handleOffset(handle), size: this.core.handleSize(handle), created };
    }
    throw statusError(-k.KIND_MISMATCH, what);
  }

  /** A cache of object wrappers, so that asking twice for one object gives one wrapper. */
  cached<T>(key: string, make: () => T): T {
    this.assertOpen();
    let object = this.#objects.get(key) as T | undefined;
    if (object === undefined) {
      object = make();
      this.#objects.set(key, object);
    }
    return object;
  }

  /**
   * The mutex `name`, created on first use (unless `create: false`).
   *
   * @example
   * ```ts
   * import { Segment } from "./mod.ts";
   * using segment = Segment.create("/mutex-method", { size: 65536 });
   * using held = segment.mutex("jobs").lock();
   * segment.unlink();
   * ```
   */
  mutex(name: string, options: ObjectOptions & { wait?: WaitMode } = {}): Mutex {
    this.#checkAccess(name, options, "mutex");
    return this.cached(`mutex:${name}`, () => {
      const found = this.findOrCreate(this.constants.KIND_MUTEX, name, options);
      return new Mutex(this, name, found.handle, options.wait ?? "adaptive");
    });
  }

  /**
   * The counting semaphore `name`, created on first use with `initial`
   * (default 0) and `maximum` (default 2^31 - 1) permits; both are ignored
   * if it exists already.
   *
   * @example
   * ```ts
   * import { Segment } from "./mod.ts";
   * using segment = Segment.create("/semaphore-method", { size: 65536 });
   * const slots = segment.semaphore("slots", { initial: 3, maximum: 3 });
   * using _permit = slots.wait({ timeoutMs: 100 });
   * segment.unlink();
   * ```
   */
  semaphore(name: string, options: SemaphoreOptions = {}): Semaphore {
    this.#checkAccess(name, options, "semaphore");
    const initial = options.initial ?? 0;
    const maximum = options.maximum ?? this.constants.SEMAPHORE_VALUE_MAX;
    checkInteger(
      maximum,
      "maximum",
      1,
      this.constants.SEMAPHORE_VALUE_MAX,
      `an integer from 1 to 2^31 - 1 for semaphore "${name}"`,
    );
    checkInteger(
      initial,
      "initial value",
      0,
      maximum,
      `an integer from 0 to ${maximum} (its maximum) for semaphore "${name}"`,
    );
    return this.cached(`semaphore:${name}`, () => {
      const k = this.constants;
      const found = this.findOrCreate(k.KIND_SEMAPHORE, name, options, initial, maximum);
      return new Semaphore(this, name, found.handle, options.wait ?? "adaptive");
    });
  }

  /**
   * The reader-writer lock `name`, created on first use with room for
   * `readers` processes reading at once (default 32; each costs 64 bytes).
   *
   * @example
   * ```ts
   * import { Segment } from "./mod.ts";
   * using segment = Segment.create("/rwlock-method", { size: 65536 });
   * using held = segment.rwlock("table", { readers: 8 }).read({ timeoutMs: 100 });
   * segment.unlink();
   * ```
   */
  rwlock(name: string, options: ObjectOptions & { readers?: number; wait?: WaitMode } = {}): RwLock {
    const k = this.constants;
    this.#checkAccess(name, options, "rwlock");
    const readers = options.readers ?? k.RWLOCK_DEFAULT_READERS;
    checkInteger(
      readers,
      "readers",
      1,
      k.RWLOCK_MAX_READERS,
      `an integer from 1 to ${k.RWLOCK_MAX_READERS} for rwlock "${name}"`,
    );
    return this.cached(`rwlock:${name}`, () => {
      const found = this.findOrCreate(k.KIND_RWLOCK, name, options, readers);
      return new RwLock(this, name, found.handle, options.wait ?? "adaptive");
    });
  }

  /**
   * The event (notifier with a sequence number) `name`, created on first use.
   *
   * @example
   * ```ts
   * import { Segment } from "./mod.ts";
   * using segment = Segment.create("/event-method", { size: 65536 });
   * const jobs = segment.event("jobs");
   * const seen = jobs.sequence;
   * jobs.notifyAll();
   * jobs.wait(seen, { timeoutMs: 100 });
   * segment.unlink();
   * ```
   */
  event(name: string, options: ObjectOptions & { wait?: WaitMode } = {}): Event {
    this.#checkAccess(name, options, "event");
    return this.cached(`event:${name}`, () => {
      const found = this.findOrCreate(this.constants.KIND_EVENT, name, options);
      return new Event(this, name, found.handle, options.wait ?? "adaptive");
    });
  }

  /**
   * The SPSC byte ring `name`, created on first use with `capacity` data
   * bytes (a power of two, default 65536; a message may be up to
   * capacity / 2 - 8 bytes). See {@linkcode Ring}.
   *
   * @example
   * ```ts
   * import { Segment } from "./mod.ts";
   * using segment = Segment.create("/ring-method", { size: 1 << 20 });
   * const ring = segment.ring("log", { capacity: 1 << 16 });
   * ring.send("started");
   * segment.unlink();
   * ```
   */
  ring(name: string, options: RingOptions = {}): Ring {
    const k = this.constants;
    this.#checkAccess(name, options, "ring", options?.wait ?? "adaptive");
    const capacity = options.capacity ?? 65536;
    const powerOfTwo = `a power of two from ${k.RING_MIN_CAPACITY} to 2^30 for ring "${name}"`;
    checkInteger(capacity, "capacity", k.RING_MIN_CAPACITY, k.RING_MAX_CAPACITY, powerOfTwo);
    if ((capacity & (capacity - 1)) !== 0) {
      throw argumentError("range", `Invalid capacity ${capacity}: it must be ${powerOfTwo}`);
    }
    return this.cached(`ring:${name}`, () => {
      const found = this.findOrCreate(k.KIND_RING, name, options, capacity);
      return new Ring(this, name, found.handle, options.wait ?? "adaptive");
    });
  }

  /**
   * The MPMC queue `name`, created on first use with `slots` messages (a
   * power of two, default 64) of up to `slotSize` bytes (default 256).
   * See {@linkcode Queue}.
   *
   * @example
   * ```ts
   * import { Segment } from "./mod.ts";
   * using segment = Segment.create("/queue-method", { size: 1 << 20 });
   * const jobs = segment.queue("jobs", { slotSize: 512, slots: 128 });
   * jobs.send("job 1");
   * segment.unlink();
   * ```
   */
  queue(name: string, options: QueueOptions = {}): Queue {
    const k = this.constants;
    this.#checkAccess(name, options, "queue", options?.wait ?? "adaptive");
    const slotSize = options.slotSize ?? 256;
    const slots = options.slots ?? 64;
    checkInteger(
      slotSize,
      "slotSize",
      1,
      k.QUEUE_MAX_SLOT_SIZE,
      `an integer from 1 to ${k.QUEUE_MAX_SLOT_SIZE} for queue "${name}"`,
    );
    const powerOfTwo = `a power of two from 2 to ${k.QUEUE_MAX_SLOTS} for queue "${name}"`;
    checkInteger(slots, "slots", 2, k.QUEUE_MAX_SLOTS, powerOfTwo);
    if ((slots & (slots - 1)) !== 0) {
      throw argumentError("range", `Invalid slots ${slots}: it must be ${powerOfTwo}`);
    }
    return this.cached(`queue:${name}`, () => {
      const found = this.findOrCreate(k.KIND_QUEUE, name, options, slotSize, slots);
      return new Queue(this, name, found.handle, options.wait ?? "adaptive");
    });
  }

  /**
   * The request/response channel `name`, created on first use carrying
   * messages of up to `capacity` bytes (default 4096); `clients: 0`
   * (default) is the classic exchange, `clients: K` serves K client
   * processes at once. See {@linkcode Channel}.
   *
   * @example
   * ```ts
   * import { Segment } from "./mod.ts";
   * using segment = Segment.create("/channel-method", { size: 1 << 20 });
   * const rpc = segment.channel("rpc", { capacity: 1024, clients: 8 });
   * console.log(rpc.stats().mode); // "many-client"
   * segment.unlink();
   * ```
   */
  channel(name: string, options: ChannelOptions = {}): Channel {
    const k = this.constants;
    this.#checkAccess(name, options, "channel", options?.wait ?? "adaptive");
    const capacity = options.capacity ?? 4096;
    const clients = options.clients ?? 0;
    checkInteger(
      capacity,
      "capacity",
      1,
      k.CHANNEL_MAX_CAPACITY,
      `an integer from 1 to ${k.CHANNEL_MAX_CAPACITY} for channel "${name}"`,
    );
    checkInteger(
      clients,
      "clients",
      0,
      k.CHANNEL_MAX_CLIENTS,
      `an integer from 0 to ${k.CHANNEL_MAX_CLIENTS} for channel "${name}"`,
    );
    return this.cached(`channel:${name}`, () => {
      const found = this.findOrCreate(k.KIND_CHANNEL, name, options, capacity, clients);
      return new Channel(this, name, found.handle, options.wait ?? "adaptive");
    });
  }

  /**
   * A named region of raw shared bytes, created zero-filled on first use.
   * The view covers the whole region (its size rounded up to 64 bytes).
   *
   * @example
   * ```ts
   * import { Segment } from "./mod.ts";
   * using segment = Segment.create("/bytes-example", { size: 65536 });
   * const counter = new BigInt64Array(segment.memory.buffer, segment.bytes("n", 8).byteOffset, 1);
   * Atomics.add(counter, 0, 1n);
   * segment.unlink();
   * ```
   */
  bytes(name: string, size: number, options: ObjectOptions = {}): Uint8Array {
    this.#checkAccess(name, options, "bytes");
    checkInteger(size, "size", 1, this.size, `an integer from 1 to ${this.size} for bytes "${name}"`);
    const found = this.findOrCreate(this.constants.KIND_BYTES, name, options, size);
    if (found.size < size) {
      throw new WshmError(
        "InvalidArgument",
        `bytes "${name}" in segment "${this.name}" has ${found.size} bytes, fewer than ${size}`,
      );
    }
    // The entry was checked when the segment was opened, but a peer may have written it since.
    const offset = found.offset >>> 0;
    const length = found.size >>> 0;
    if (!this.#withinObjects(offset, length)) {
      throw new WshmError(
        "Corrupt",
        `Cannot open bytes "${name}" in segment "${this.name}": its entry states offset ${offset} and ` +
          `size ${length}, outside the objects area (${this.constants.HEADER_SIZE} to ${this.size})`,
      );
    }
    return new Uint8Array(this.memory.buffer, this.constants.SEGMENT_BASE + offset, length);
  }
}

/** Checks the header through pread; returns the size to map, or 0 while initialising. */
function checkHeader(os: Posix, fd: number, name: string, k: CoreConstants): number {
  const status = os.stat(fd, name);
  if (!status.regular) {
    throw new WshmError("BadMagic", `Cannot open segment "${name}": it is not a regular file`);
  }
  const fileSize = status.size;
  const head = fileSize === 0 ? new Uint8Array(0) : os.pread(fd, k.HEADER_CHECK_SIZE, 0, name);
  // The core decides (the same check it makes once mapped); the host only words the answer.
  const verdict = checkHeaderBytes(head, fileSize);
  if (verdict === k.OK) return fileSize;
  if (verdict === k.INITIALISING) return 0;
  const view = new DataView(head.buffer, head.byteOffset, head.length);
  const what = `Cannot open segment "${name}"`;
  if (verdict === k.BAD_MAGIC) {
    if (head.length < k.HEADER_CHECK_SIZE) {
      throw new WshmError("BadMagic", `${what}: it is not a wshm segment (only ${fileSize} bytes)`);
    }
    const magic = view.getUint32(k.HEADER_MAGIC, true);
    throw new WshmError("BadMagic", `${what}: it is not a wshm segment (magic 0x${magic.toString(16)})`);
  }
  if (verdict === k.VERSION_MISMATCH) {
    const version = view.getUint32(k.HEADER_VERSION, true);
    throw new WshmError(
      "VersionMismatch",
      `${what}: it has layout version ${version}; this wshm reads version ${k.LAYOUT_VERSION}`,
    );
  }
  const stated = Number(view.getBigUint64(k.HEADER_SEGMENT_SIZE, true));
  if (stated !== fileSize) {
    throw new WshmError(
      "Corrupt",
      `${what}: its header states ${stated} bytes but the file has ${fileSize}` +
        (stated > fileSize ? " (truncated)" : ""),
    );
  }
  throw new WshmError("Corrupt", `${what}: its header is not one wshm writes (state, size or directory)`);
}

/** A shared wasm memory of size + 64 KiB with the file mapped over everything after page 0. */
function mapInto(os: Posix, fd: number, size: number, name: string) {
  const k = coreConstants();
  const pages = Math.ceil(size / k.PAGE_SIZE) + 1;
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  } catch (error) {
    // The runtime could not reserve the address space (a RangeError without a code).
    throw new WshmError(
      "NoSpace",
      `Cannot map segment "${name}": no room for a ${size}-byte WebAssembly memory in this process`,
      { cause: error },
    );
  }
  const base = os.addressOf(memory.buffer as unknown as SharedArrayBuffer);
  os.mapShared(base + k.SEGMENT_BASE, size, fd, name);
  return { memory, base };
}
