/**
 * The internal layer between a mapped segment and its objects: the memory,
 * the core instance over it, the directory (find or create an object, open
 * it through the core's checked handles), and the cache of open objects.
 * It imports no object class; every object class opens itself from it
 * (`Mutex.open(mapping, name, options)` and the like), and {@linkcode
 * Segment} holds one. Not part of the public API.
 *
 * @module
 */

import type { Core, CoreConstants } from "./core.ts";
import type { Posix } from "./platform/mod.ts";
import { argumentError, WshmError } from "./errors.ts";
import { booleanOption, checkObjectNameType, checkOptions, objectNameBytes } from "./names.ts";
import { statusError } from "./status.ts";
import { spinsFor, timeoutOption, type WaitMode } from "./wait.ts";
import type { WasmMemory } from "./wasm_types.ts";

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

/** The options of an accessor for an object that waits: also its default wait mode. */
export interface WaitingObjectOptions extends ObjectOptions {
  /** How this handle waits unless a call says otherwise (default "adaptive"). */
  wait?: WaitMode;
}

/** @internal What the directory says of an object once it is open. */
export interface FoundObject {
  /** The core's handle: every object call passes it (the core keeps the checked extent). */
  handle: number;
  /** Offset from the segment's first byte, as the core validated it. */
  offset: number;
  /** Size in bytes, as the core validated it. */
  size: number;
  /** True if this call created it. */
  created: boolean;
}

/** @internal The name of an object kind number: "mutex" for KIND_MUTEX, from the core's own constants. */
export function kindName(k: CoreConstants, kind: number): string {
  for (const [name, value] of Object.entries(k)) {
    if (name.startsWith("KIND_") && name !== "KIND_MAX" && value === kind) return name.slice(5).toLowerCase();
  }
  return `kind ${kind}`;
}

/**
 * @internal
 * One mapped segment as its objects see it. Created by {@linkcode Segment}
 * once the memory is mapped and the core attached.
 */
export class Mapping {
  /** The segment's name ("/jobs"). */
  readonly name: string;
  /** Size in bytes of the shared part. */
  readonly size: number;
  /** The WebAssembly memory: page 0 is private, the segment starts at `constants.SEGMENT_BASE`. */
  readonly memory: WasmMemory;
  /** The real address of wasm address 0 in this process. */
  readonly base: number;
  /** The core instance bound to this segment. */
  readonly core: Core;
  /** The core's layout and status constants. */
  readonly constants: CoreConstants;
  /** The platform layer of this process. */
  readonly posix: Posix;
  #closed = false;
  // The open objects, by "kind:name", so that asking twice gives one object.
  readonly #objects = new Map<string, unknown>();

  constructor(
    name: string,
    size: number,
    memory: WasmMemory,
    base: number,
    core: Core,
    constants: CoreConstants,
    posix: Posix,
  ) {
    this.name = name;
    this.size = size;
    this.memory = memory;
    this.base = base;
    this.core = core;
    this.constants = constants;
    this.posix = posix;
  }

  /** True once `close()` has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws `Closed` if the segment has been closed. */
  assertOpen(): void {
    if (this.#closed) throw new WshmError("Closed", `Segment "${this.name}" is closed`);
  }

  /** A DataView over the shared part (offset 0 is the segment's first byte). */
  view(): DataView {
    this.assertOpen();
    return new DataView(this.memory.buffer, this.constants.SEGMENT_BASE, this.size);
  }

  /**
   * Checks what every object accessor takes, before anything runs: a name
   * that is a string (the rest of it is checked on lookup), an options
   * object, a boolean `create`, a `timeoutMs` and, for objects that wait, a
   * wait mode.
   */
  checkAccess(name: unknown, options: unknown, what: string, wait?: unknown): void {
    checkObjectNameType(name);
    const o = checkOptions(options as { create?: unknown; timeoutMs?: unknown } | undefined, `${what}()`);
    booleanOption(o.create, "create", true);
    if (o.timeoutMs !== undefined) timeoutOption(o.timeoutMs as number);
    if (wait !== undefined) spinsFor(this.constants, wait as WaitMode);
  }

  /**
   * Finds the object `name` of `kind`, creating it with parameters `p0..p2`
   * if it does not exist (unless `options.create` is false), then opens it
   * through the core, which validates its directory entry and keeps the
   * extent in a private table. Creating waits at most `options.timeoutMs`
   * (default 1000) for the directory lock.
   */
  findOrCreate(kind: number, name: string, options: ObjectOptions, p0 = 0, p1 = 0, p2 = 0): FoundObject {
    this.assertOpen();
    const k = this.constants;
    const create = options.create ?? true;
    const timeoutMs = options.timeoutMs ?? DEFAULT_CREATE_TIMEOUT_MS;
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0)) {
      throw argumentError("range", `Invalid timeoutMs ${String(timeoutMs)}: it must be a number >= 0`);
    }
    const bytes = objectNameBytes(name, k.NAME_MAX);
    new Uint8Array(this.memory.buffer, this.core.nameScratch.value, bytes.length).set(bytes);
    const what = `Cannot open ${kindName(k, kind)} "${name}" in segment "${this.name}"`;
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
      return {
        handle,
        offset: this.core.handleOffset(handle) >>> 0,
        size: this.core.handleSize(handle) >>> 0,
        created,
      };
    }
    throw statusError(-k.KIND_MISMATCH, what);
  }

  /** The open object under `key`, made by `make` the first time, so that asking twice gives one object. */
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
   * Releases the roles the open objects hold (see each object's `detach()`),
   * then maps private memory back over the segment. Idempotent.
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
}
