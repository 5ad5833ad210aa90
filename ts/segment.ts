/**
 * A named POSIX shared-memory segment mapped into this process at wasm page 1,
 * with the core instantiated over it: the public face of a {@linkcode Mapping}.
 *
 * @module
 */

import type { Core, CoreConstants } from "./core.ts";
import type { Posix } from "./platform/mod.ts";
import { WshmError } from "./errors.ts";
import { checkSegmentName } from "./names.ts";
import {
  createMapping,
  type CreateOptions,
  type Opened,
  openMapping,
  type OpenOptions,
  posix,
} from "./segment_open.ts";
import type { FoundObject, Mapping, ObjectOptions, WaitingObjectOptions } from "./mapping.ts";
import { listObjects, type ObjectInfo, openBytes } from "./segment_objects.ts";
import { Mutex } from "./mutex.ts";
import { Semaphore, type SemaphoreOptions } from "./semaphore.ts";
import { RwLock, type RwLockOptions } from "./rwlock.ts";
import { Event } from "./event.ts";
import { Blackboard, type BlackboardOptions } from "./blackboard.ts";
import { Ring, type RingOptions } from "./ring.ts";
import { Queue, type QueueOptions } from "./queue.ts";
import { Channel } from "./channel.ts";
import { Topic, type TopicOptions } from "./topic.ts";
import type { ChannelOptions } from "./channel_types.ts";
import type { WasmMemory } from "./wasm_types.ts";

export type { CreateOptions, ObjectInfo, ObjectOptions, OpenOptions, WaitingObjectOptions };

/**
 * A mapped segment. Create one with {@linkcode Segment.create}, attach to an
 * existing one with {@linkcode Segment.open}; close it (or let `using` do so)
 * to unmap it. Objects inside are reached by name: `segment.mutex("jobs")`.
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
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
  readonly #map: Mapping;

  private constructor(opened: Opened) {
    this.#map = opened.mapping;
    this.name = opened.mapping.name;
    this.size = opened.mapping.size;
    this.created = opened.created;
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
   * import { Segment } from "wshm";
   * using segment = Segment.create("/jobs", { size: 4 << 20 });
   * // For the users of one group: Segment.create("/jobs", { size, mode: 0o660, group: "jobs" })
   * segment.unlink(); // the name goes now, the memory when the last process closes it
   * ```
   */
  static create(name: string, options: CreateOptions): Segment {
    return new Segment(createMapping(name, options));
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
   * import { Segment } from "wshm";
   * using created = Segment.create("/jobs", { size: 1 << 20 }); // usually by another process
   * using segment = Segment.open("/jobs", { timeoutMs: 2000 });
   * // A segment that user "jobs" created: Segment.open("/jobs", { trustOwner: "jobs" })
   * Segment.unlink("/jobs");
   * ```
   */
  static open(name: string, options?: OpenOptions): Segment {
    return new Segment(openMapping(name, options));
  }

  /**
   * Removes a segment's name from /dev/shm. Processes that have it mapped keep
   * using it; the memory is freed when the last one closes.
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * Segment.create("/jobs", { size: 1 << 20 }).close(); // the segment outlives its handle
   * Segment.unlink("/jobs");
   * ```
   */
  static unlink(name: string): void {
    checkSegmentName(name);
    posix().shmUnlink(name);
  }

  /** The WebAssembly memory: page 0 is private, the segment's byte 0 is at wasm address 65536. */
  get memory(): WasmMemory {
    return this.#map.memory;
  }

  /** True once `close()` has run. */
  get closed(): boolean {
    return this.#map.closed;
  }

  /**
   * Releases the roles its objects hold (see each object's `detach()`), then
   * unmaps the segment from this process. Views handed out before keep their
   * memory but no longer reach the segment. Idempotent.
   */
  close(): void {
    this.#map.close();
  }

  /** Removes this segment's name (see {@linkcode Segment.unlink}); NotFound is ignored. */
  unlink(): void {
    try {
      this.#map.posix.shmUnlink(this.name);
    } catch (error) {
      if (!(error instanceof WshmError && error.code === "NotFound")) throw error;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The pid of the process that created the segment. */
  get creatorPid(): number {
    return this.view().getUint32(this.#map.constants.HEADER_CREATOR_PID, true);
  }

  /** When the segment was created. */
  get createdAt(): Date {
    return new Date(this.view().getFloat64(this.#map.constants.HEADER_CREATED_MS, true));
  }

  /** A DataView over the shared part (offset 0 is the segment's first byte). */
  view(): DataView {
    return this.#map.view();
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
    return listObjects(this.#map);
  }

  /**
   * The mutex `name`, created on first use (unless `create: false`).
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * using segment = Segment.create("/mutex-method", { size: 65536 });
   * using held = segment.mutex("jobs").lock();
   * segment.unlink();
   * ```
   */
  mutex(name: string, options: WaitingObjectOptions = {}): Mutex {
    return Mutex.open(this.#map, name, options);
  }

  /**
   * The counting semaphore `name`, created on first use with `initial`
   * (default 0) and `maximum` (default 2^31 - 1) permits; both are ignored
   * if it exists already.
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * using segment = Segment.create("/semaphore-method", { size: 65536 });
   * const slots = segment.semaphore("slots", { initial: 3, maximum: 3 });
   * using _permit = slots.wait({ timeoutMs: 100 });
   * segment.unlink();
   * ```
   */
  semaphore(name: string, options: SemaphoreOptions = {}): Semaphore {
    return Semaphore.open(this.#map, name, options);
  }

  /**
   * The reader-writer lock `name`, created on first use with room for
   * `readers` processes reading at once (default 32; each costs 64 bytes).
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * using segment = Segment.create("/rwlock-method", { size: 65536 });
   * using held = segment.rwlock("table", { readers: 8 }).read({ timeoutMs: 100 });
   * segment.unlink();
   * ```
   */
  rwlock(name: string, options: RwLockOptions = {}): RwLock {
    return RwLock.open(this.#map, name, options);
  }

  /**
   * The event (notifier with a sequence number) `name`, created on first use.
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * using segment = Segment.create("/event-method", { size: 65536 });
   * const jobs = segment.event("jobs");
   * const seen = jobs.sequence;
   * jobs.notifyAll();
   * jobs.wait(seen, { timeoutMs: 100 });
   * segment.unlink();
   * ```
   */
  event(name: string, options: WaitingObjectOptions = {}): Event {
    return Event.open(this.#map, name, options);
  }

  /**
   * The blackboard `name` (shared latest value by key), created on first
   * use with `keys` (needed to create it) and values of up to
   * `maxValueSize` bytes (default 256). See {@linkcode Blackboard}.
   *
   * @example
   * ```ts
   * import { Segment } from "./mod.ts";
   * using segment = Segment.create("/blackboard-method", { size: 1 << 20 });
   * const board = segment.blackboard("state", { keys: ["mode", "speed"], maxValueSize: 64 });
   * board.write("mode", "auto");
   * segment.unlink();
   * ```
   */
  blackboard(name: string, options: BlackboardOptions = {}): Blackboard {
    return Blackboard.open(this.#map, name, options);
  }

  /**
   * The SPSC byte ring `name`, created on first use with `capacity` data
   * bytes (a power of two, default 65536; a message may be up to
   * capacity / 2 - 8 bytes). See {@linkcode Ring}.
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * using segment = Segment.create("/ring-method", { size: 1 << 20 });
   * const ring = segment.ring("log", { capacity: 1 << 16 });
   * ring.send("started");
   * segment.unlink();
   * ```
   */
  ring(name: string, options: RingOptions = {}): Ring {
    return Ring.open(this.#map, name, options);
  }

  /**
   * The publish/subscribe topic `name`, created on first use (see
   * {@linkcode Topic} for the options: maxMessage, depth, subscribers,
   * history, policy).
   */
  topic(name: string, options: TopicOptions = {}): Topic {
    return Topic.open(this.#map, name, options);
  }

  /**
   * The MPMC queue `name`, created on first use with `slots` messages (a
   * power of two, default 64) of up to `slotSize` bytes (default 256).
   * See {@linkcode Queue}.
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * using segment = Segment.create("/queue-method", { size: 1 << 20 });
   * const jobs = segment.queue("jobs", { slotSize: 512, slots: 128 });
   * jobs.send("job 1");
   * segment.unlink();
   * ```
   */
  queue(name: string, options: QueueOptions = {}): Queue {
    return Queue.open(this.#map, name, options);
  }

  /**
   * The request/response channel `name`, created on first use carrying
   * messages of up to `capacity` bytes (default 4096); `clients: 0`
   * (default) is the classic exchange, `clients: K` serves K client
   * processes at once. See {@linkcode Channel}.
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * using segment = Segment.create("/channel-method", { size: 1 << 20 });
   * const rpc = segment.channel("rpc", { capacity: 1024, clients: 8 });
   * console.log(rpc.stats().mode); // "many-client"
   * segment.unlink();
   * ```
   */
  channel(name: string, options: ChannelOptions = {}): Channel {
    return Channel.open(this.#map, name, options);
  }

  /**
   * A named region of raw shared bytes, created zero-filled on first use.
   * The view covers the whole region (its size rounded up to 64 bytes).
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * using segment = Segment.create("/bytes-example", { size: 65536 });
   * const counter = new BigInt64Array(segment.memory.buffer, segment.bytes("n", 8).byteOffset, 1);
   * Atomics.add(counter, 0, 1n);
   * segment.unlink();
   * ```
   */
  bytes(name: string, size: number, options: ObjectOptions = {}): Uint8Array {
    return openBytes(this.#map, name, size, options);
  }

  // ─── advanced: the internals, for tests, benchmarks and ts/advanced.ts ───

  /** @internal The mapping this segment's objects open themselves from. */
  get mapping(): Mapping {
    return this.#map;
  }

  /** @internal The core instance bound to this segment (docs/ABI.md). */
  get core(): Core {
    return this.#map.core;
  }

  /** @internal The core's layout and status constants. */
  get constants(): CoreConstants {
    return this.#map.constants;
  }

  /** @internal The real address of wasm address 0 in this process. */
  get base(): number {
    return this.#map.base;
  }

  /** @internal The platform layer of this process. */
  get posix(): Posix {
    return this.#map.posix;
  }

  /** @internal Throws `Closed` if this handle has been closed. */
  assertOpen(): void {
    this.#map.assertOpen();
  }

  /** @internal See Mapping.findOrCreate. */
  findOrCreate(kind: number, name: string, options: ObjectOptions, p0 = 0, p1 = 0, p2 = 0): FoundObject {
    return this.#map.findOrCreate(kind, name, options, p0, p1, p2);
  }
}
