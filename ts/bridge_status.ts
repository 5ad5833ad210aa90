/**
 * Where a bridge publishes its state in its segment, and how `wshm inspect`
 * (or any program) reads it back, without loading the NATS client: the
 * blackboard `wshm.bridge.status`, key "status", one JSON document that the
 * bridge rewrites every second. The mutex `wshm.bridge` is the bridge role
 * (its holder is the bridge; a dead holder is taken over by the next bridge).
 *
 * @module
 */

import type { Segment } from "./segment.ts";
import type { BridgedObjectStats } from "./bridge_context.ts";

/** The mutex whose holder is the segment's bridge. */
export const BRIDGE_ROLE = "wshm.bridge";
/** The blackboard where the bridge publishes its state. */
export const BRIDGE_STATUS = "wshm.bridge.status";
export const BRIDGE_STATUS_KEY = "status";
/** The largest status document. */
export const BRIDGE_STATUS_MAX = 16384;

/** What `Bridge.stats()` reports. */
export interface BridgeStats {
  segment: string;
  pid: number;
  prefix: string;
  /** The NATS servers, without credentials. */
  servers: string[];
  /** "connecting", "connected", "reconnecting", "connecting: <why not>" or "closed". */
  connection: string;
  reconnects: number;
  objects: BridgedObjectStats[];
}

/** The status document of a bridge, as last published: its stats with each object's rates. */
export interface BridgeStatusRecord extends Omit<BridgeStats, "objects"> {
  objects: (BridgedObjectStats & { sentPerSecond: number; receivedPerSecond: number })[];
  /** Date.now() of the last write. */
  updatedAt: number;
}

/** The last status a bridge published in `segment`, or null if no bridge ever ran there (or it is unreadable). */
export function readBridgeStatus(segment: Segment): BridgeStatusRecord | null {
  if (!segment.objects().some((o) => o.name === BRIDGE_STATUS && o.kind === "blackboard")) return null;
  try {
    const board = segment.blackboard(BRIDGE_STATUS, { create: false });
    const value = board.read(BRIDGE_STATUS_KEY, { timeoutMs: 100 });
    const record = JSON.parse(value.text()) as BridgeStatusRecord;
    if (typeof record !== "object" || record === null || !Array.isArray(record.objects)) return null;
    return record;
  } catch {
    return null;
  }
}
