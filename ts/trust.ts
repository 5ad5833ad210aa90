// Whose segments this process opens, and which group a new segment gets.
//
// A segment's owner can write any byte of it at any time, so opening it means
// trusting that user with what is sent through it: a request queue created
// first by another local user (mode 0666) would receive every client's
// requests. Segment.open therefore takes only segments owned by the caller's
// effective uid, unless the caller names the owner it trusts (a uid or a user
// name) or opts in with "any". The owner is read with fstat on the descriptor
// that is then mapped, so a file swapped in after the check is not the one
// used.
//
// Names are resolved through /etc/passwd and /etc/group, read through the C
// library (no runtime permission beyond FFI). Users and groups known only to
// NSS services (LDAP, sssd) are not in those files: give their ids instead.

import type { FileStatus, Posix } from "./platform/mod.ts";
import { argumentError, WshmError } from "./errors.ts";
import { shown } from "./names.ts";

/**
 * Whom `Segment.open` trusts besides the caller's own user: a uid,
 * a user name from /etc/passwd, or `"any"` for every owner.
 */
export type TrustOwner = number | string;

/** The largest uid or gid: (uid_t) -1 means "no id" to the kernel. */
const ID_MAX = 0xFFFFFFFE;

interface IdTable {
  byName: Map<string, number>;
  byId: Map<number, string>;
}

const decoder = new TextDecoder();

/** The names and ids of /etc/passwd or /etc/group (both: name in field 1, id in field 3). */
function readIds(posix: Posix, path: string): IdTable {
  const table: IdTable = { byName: new Map(), byId: new Map() };
  const bytes = posix.readFile(path);
  if (bytes === null) return table;
  for (const line of decoder.decode(bytes).split("\n")) {
    const [name, , id] = line.split(":");
    if (!name || id === undefined || !/^\d+$/.test(id) || name.startsWith("#")) continue;
    const n = Number(id);
    if (!table.byName.has(name)) table.byName.set(name, n);
    if (!table.byId.has(n)) table.byId.set(n, name);
  }
  return table;
}

/** The name of user `uid` in /etc/passwd, or undefined. */
export function userName(posix: Posix, uid: number): string | undefined {
  return readIds(posix, "/etc/passwd").byId.get(uid);
}

/** The name of group `gid` in /etc/group, or undefined. */
export function groupName(posix: Posix, gid: number): string | undefined {
  return readIds(posix, "/etc/group").byId.get(gid);
}

/** A uid/gid option: an id, or a name looked up in `path` (a name of digits that is no name is an id). */
function resolveId(value: unknown, option: string, what: "user" | "group", posix: Posix): number {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0 || value > ID_MAX) {
      throw argumentError(
        "range",
        `Invalid ${option} ${value}: a ${what} id must be an integer from 0 to ${ID_MAX}`,
      );
    }
    return value;
  }
  if (typeof value !== "string") {
    throw argumentError(
      "type",
      `Invalid ${option} ${
        shown(value)
      }: it must be a ${what} id (a number) or a ${what} name, not ${typeof value}`,
    );
  }
  const path = what === "user" ? "/etc/passwd" : "/etc/group";
  const id = readIds(posix, path).byName.get(value);
  if (id !== undefined) return id;
  if (/^\d+$/.test(value) && Number(value) <= ID_MAX) return Number(value);
  throw argumentError(
    "range",
    `Invalid ${option} ${
      shown(value)
    }: there is no ${what} of that name in ${path} (give the ${what} id instead)`,
  );
}

/**
 * The `trustOwner` option resolved: undefined (only the caller's own user),
 * "any", or a uid. TypeError or RangeError (code InvalidArgument) for
 * anything else, and for a user name that /etc/passwd does not know.
 */
export function resolveTrust(value: unknown, posix: Posix): number | "any" | undefined {
  if (value === undefined || value === "any") return value;
  return resolveId(value, "trustOwner", "user", posix);
}

/** The `group` option of Segment.create resolved to a gid (undefined: leave the creator's group). */
export function resolveGroup(value: unknown, posix: Posix): number | undefined {
  if (value === undefined) return undefined;
  return resolveId(value, "group", "group", posix);
}

/**
 * Throws ForeignOwner unless the file described by `status` belongs to the
 * caller's effective uid or to the owner `trust` names ("any": every owner).
 * Root is no exception: a segment of another user is foreign to root too.
 */
export function checkOwner(
  status: FileStatus,
  trust: number | "any" | undefined,
  posix: Posix,
  name: string,
): void {
  const owner = status.uid;
  if (owner === posix.euid() || trust === "any" || trust === owner) return;
  const user = userName(posix, owner);
  const who = user === undefined ? `uid ${owner}` : `uid ${owner} (${user})`;
  const pass = user === undefined
    ? `pass { trustOwner: ${owner} }`
    : `pass { trustOwner: ${owner} } or { trustOwner: ${JSON.stringify(user)} }`;
  throw new WshmError(
    "ForeignOwner",
    `Cannot open segment "${name}": it is owned by ${who}, not by you; ${pass} to open it anyway`,
  );
}
