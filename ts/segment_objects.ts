/**
 * What a segment's directory holds, as the public API shows it: the list of
 * its objects ({@linkcode Segment.objects}) and the raw byte regions
 * ({@linkcode Segment.bytes}), both checked against the objects area, since
 * any peer may have written the directory since the segment was opened.
 *
 * @module
 */

import { kindName, type Mapping, type ObjectOptions } from "./mapping.ts";
import { WshmError } from "./errors.ts";
import { checkInteger } from "./names.ts";

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

const decoder = new TextDecoder();

/** True if `[offset, offset + size)` lies after the header and inside the segment (no wrap: Numbers). */
function withinObjects(map: Mapping, offset: number, size: number): boolean {
  return offset >= map.constants.HEADER_SIZE && offset + size <= map.size;
}

/** @internal The objects in the directory of `map` (see Segment.objects). */
export function listObjects(map: Mapping): ObjectInfo[] {
  const k = map.constants;
  const view = map.view();
  const list: ObjectInfo[] = [];
  for (let i = 0; i < k.DIR_CAPACITY; i++) {
    const kind = map.core.entryKind(i);
    if (kind === 0) continue;
    const entry = k.HEADER_DIRECTORY + i * k.DIR_ENTRY_SIZE;
    const length = view.getUint32(entry + k.ENTRY_NAME_LENGTH, true);
    const offset = map.core.entryOffset(i) >>> 0;
    const size = map.core.entrySize(i) >>> 0;
    const problem = length === 0 || length > k.NAME_MAX
      ? `a name length of ${length} (1 to ${k.NAME_MAX})`
      : kindName(k, kind).startsWith("kind ")
      ? `an unknown kind ${kind}`
      : !withinObjects(map, offset, size)
      ? `offset ${offset} and size ${size}, outside the objects area (${k.HEADER_SIZE} to ${map.size})`
      : undefined;
    if (problem !== undefined) {
      throw new WshmError(
        "Corrupt",
        `Cannot list the objects of segment "${map.name}": directory entry ${i} has ${problem}`,
      );
    }
    const nameBytes = new Uint8Array(map.memory.buffer, k.SEGMENT_BASE + entry + k.ENTRY_NAME, length);
    list.push({ name: decoder.decode(nameBytes.slice()), kind: kindName(k, kind), offset, size, index: i });
  }
  return list;
}

/** @internal The byte region `name` of `map`, created on first use (see Segment.bytes). */
export function openBytes(map: Mapping, name: string, size: number, options: ObjectOptions): Uint8Array {
  map.checkAccess(name, options, "bytes");
  checkInteger(size, "size", 1, map.size, `an integer from 1 to ${map.size} for bytes "${name}"`);
  const found = map.findOrCreate(map.constants.KIND_BYTES, name, options, size);
  if (found.size < size) {
    throw new WshmError(
      "InvalidArgument",
      `bytes "${name}" in segment "${map.name}" has ${found.size} bytes, fewer than ${size}`,
    );
  }
  // The entry was checked when the segment was opened, but a peer may have written it since.
  const offset = found.offset >>> 0;
  const length = found.size >>> 0;
  if (!withinObjects(map, offset, length)) {
    throw new WshmError(
      "Corrupt",
      `Cannot open bytes "${name}" in segment "${map.name}": its entry states offset ${offset} and ` +
        `size ${length}, outside the objects area (${map.constants.HEADER_SIZE} to ${map.size})`,
    );
  }
  return new Uint8Array(map.memory.buffer, map.constants.SEGMENT_BASE + offset, length);
}
