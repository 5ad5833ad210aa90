/**
 * Creating and opening a segment: the file, its owner and mode, the header
 * check (the core's), the mapping at wasm page 1 and the core attached over
 * it. {@linkcode Segment.create} and {@linkcode Segment.open} are the public
 * face; this module hands them a {@linkcode Mapping}.
 *
 * @module
 */

import { platformSync, type Posix } from "./platform/mod.ts";
import { checkHeaderBytes, type CoreConstants, coreConstants, instantiateCore } from "./core.ts";
import { argumentError, WshmError } from "./errors.ts";
import { booleanOption, checkOptions, checkSegmentName, checkSegmentSize, shown } from "./names.ts";
import { checkOwner, resolveGroup, resolveTrust, type TrustOwner } from "./trust.ts";
import { statusError } from "./status.ts";
import { Mapping } from "./mapping.ts";

/**
 * @internal
 * The platform layer of this process, loaded on first use (not on import, so
 * that an unsupported platform is reported when used and the module graph
 * has no top-level await); throws `Unsupported` where there is none.
 */
export function posix(): Posix {
  return platformSync();
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

/** @internal A mapping just made, and whether this call created the segment. */
export interface Opened {
  mapping: Mapping;
  created: boolean;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** @internal Creates the segment `name` and maps it (see Segment.create). */
export function createMapping(name: string, options: CreateOptions): Opened {
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
      if (!exclusive) return openMapping(name, { trustOwner: options.trustOwner });
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
    return { mapping: new Mapping(name, size, memory, base, core, k, os), created: true };
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

/** @internal Opens the segment `name` and maps it (see Segment.open). */
export function openMapping(name: string, options?: OpenOptions): Opened {
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
    return { mapping: new Mapping(name, size, memory, base, core, k, os), created: false };
  } finally {
    os.close(fd);
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
