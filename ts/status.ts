// Turns the core's status codes into coded errors with readable messages.

import { type CoreConstants, coreConstants } from "./core.ts";
import { WshmError, type WshmErrorCode } from "./errors.ts";

const CODES: Array<[keyof CoreConstants, WshmErrorCode, string]> = [
  ["TIMED_OUT", "Timeout", "timed out"],
  ["OWNER_DIED", "OwnerDied", "its holder died"],
  [
    "NOT_RECOVERABLE",
    "NotRecoverable",
    "it is not recoverable (a holder released it after its previous holder died, without marking it consistent)",
  ],
  ["NOT_OWNER", "NotOwner", "this process does not hold it"],
  ["CORRUPT", "Corrupt", "the segment is corrupt"],
  ["FULL", "DirectoryFull", "there is no room left"],
  ["TOO_LARGE", "TooLarge", "it is too large"],
  ["OVERFLOW", "Overflow", "it would exceed its maximum"],
  ["NOT_FOUND", "NotFound", "it does not exist"],
  ["EXISTS", "Exists", "it exists already"],
  ["KIND_MISMATCH", "KindMismatch", "an object of another kind has that name"],
  ["INVALID_ARGUMENT", "InvalidArgument", "an argument is out of range"],
  ["BAD_MAGIC", "BadMagic", "it is not a wshm segment"],
  ["VERSION_MISMATCH", "VersionMismatch", "it was written by another layout version"],
  ["INITIALISING", "Timeout", "it is still being initialised"],
  ["PEER_DIED", "PeerDied", "the peer died"],
  ["CLOSED", "Closed", "it was closed"],
  ["NO_SERVER", "NoServer", "no server is attached to it"],
  ["WOULD_BLOCK", "Busy", "its shared word kept changing (another process is flipping it)"],
];

let byStatus: Map<number, [WshmErrorCode, string]> | undefined;

/** The error for a non-OK core status, with `what` saying what was attempted. */
export function statusError(status: number, what: string): WshmError {
  if (byStatus === undefined) {
    const k = coreConstants();
    byStatus = new Map(CODES.map(([name, code, text]) => [k[name], [code, text]]));
  }
  const known = byStatus.get(Math.abs(status));
  if (known === undefined) return new WshmError("Unknown", `${what}: core status ${status}`);
  return new WshmError(known[0], `${what}: ${known[1]}`);
}
