/**
 * The one error class wshm throws for operating-system and segment failures.
 * Misuse of the API (a wrong type, a value out of range) throws TypeError or
 * RangeError instead, each with a `code` too (see {@linkcode argumentError});
 * normal outcomes on hot paths (a full queue, a lock held by someone else)
 * are return values, not errors.
 *
 * @module
 */

/** What went wrong, as a stable machine-readable code. */
export type WshmErrorCode =
  | "NotFound"
  | "Exists"
  | "PermissionDenied"
  | "ForeignOwner"
  | "InvalidName"
  | "InvalidSize"
  | "InvalidArgument"
  | "NoSpace"
  | "BadMagic"
  | "VersionMismatch"
  | "Corrupt"
  | "KindMismatch"
  | "DirectoryFull"
  | "Timeout"
  | "OwnerDied"
  | "NotRecoverable"
  | "NotOwner"
  | "PeerDied"
  | "NoServer"
  | "Busy"
  | "Closed"
  | "TooLarge"
  | "Overflow"
  | "RemoteError"
  | "Unavailable"
  | "Unsupported"
  | "Unknown";

/**
 * An error with a `code` and, when an OS call failed, the `errno` it set.
 *
 * @example
 * ```ts
 * import { Segment, WshmError } from "wshm";
 * try {
 *   Segment.open("/missing");
 * } catch (e) {
 *   if (e instanceof WshmError && e.code === "NotFound") console.log("not there yet");
 * }
 * ```
 */
export class WshmError extends Error {
  /** The stable code to branch on. */
  readonly code: WshmErrorCode;
  /** The errno of the failed OS call, when there was one. */
  readonly errno?: number;

  constructor(code: WshmErrorCode, message: string, options?: { errno?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "WshmError";
    this.code = code;
    if (options?.errno !== undefined) this.errno = options.errno;
  }
}

/** A TypeError or RangeError that carries a `code`, as Node's own argument errors do. */
export type ArgumentError = (TypeError | RangeError) & { readonly code: WshmErrorCode };

/**
 * The error for misuse of the API: a TypeError when `value`'s type is wrong
 * ("type"), a RangeError when it has the right type but an impossible value
 * ("range"); either with a `code` (default "InvalidArgument"), so that every
 * error wshm throws has one.
 *
 * @example
 * ```ts
 * import { argumentError } from "./errors.ts";
 * const e = argumentError("range", "Invalid count -1: an integer from 1 to 64");
 * console.log(e instanceof RangeError, e.code); // true "InvalidArgument"
 * ```
 */
export function argumentError(
  kind: "type" | "range",
  message: string,
  code: WshmErrorCode = "InvalidArgument",
): ArgumentError {
  const error = kind === "type" ? new TypeError(message) : new RangeError(message);
  return Object.assign(error, { code });
}

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  17: "EEXIST",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  27: "EFBIG",
  28: "ENOSPC",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  95: "EOPNOTSUPP",
  110: "ETIMEDOUT",
};

/** `ENOENT (2)`, or `errno 99` for numbers without a name here. */
export function errnoName(errno: number): string {
  const name = ERRNO_NAMES[errno];
  return name === undefined ? `errno ${errno}` : `${name} (${errno})`;
}

/** Maps an errno from a segment operation to a code, case by case, with Unknown as the fallback. */
export function codeForErrno(errno: number): WshmErrorCode {
  switch (errno) {
    case 2:
      return "NotFound";
    case 17:
      return "Exists";
    case 1:
    case 13:
      return "PermissionDenied";
    case 22:
    case 36:
      return "InvalidName";
    case 12:
    case 23:
    case 24:
    case 27:
    case 28:
      return "NoSpace";
    default:
      return "Unknown";
  }
}
