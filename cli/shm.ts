// Finding wshm segments in /dev/shm and deciding whether anybody still uses
// them. Reading is defensive: /dev/shm holds other programs' files too, so a
// file is only called a wshm segment when its header carries the magic.
//
// Headers are read through the library's own FFI layer (shm_open + pread),
// which needs no file permission from Deno. Listing /dev/shm and reading
// /proc/PID/maps go through Deno's file system API, which Deno allows for
// /dev and /proc only under --allow-all (denoland/deno#30979): so `ls` and
// `gc` run with -A, and the other commands work without the mapper scan.
//
// The peers of a segment (what `ls` shows and `gc` checks) are:
//   creator  the pid (and start time) recorded in the header by Segment.create;
//   mapper   every process that has the segment's file mapped right now, found
//            by inode in /proc/PID/maps: this covers clients that hold nothing;
//   holder   every process recorded as holding one of its locks (the directory
//            lock, each mutex) or as a party of a channel (see objects.ts);
//   unknown  a process whose maps we may not read although the file's mode
//            would let it open the segment (root's own processes excepted).
// A segment is in use while any peer is alive or unknown. Pids of holders are
// checked without a start time (the core exposes only the pid), so a reused
// pid counts as alive: gc errs towards keeping.

import { checkHeaderBytes, type CoreConstants, coreConstants } from "../ts/core.ts";
import { platform, type Posix } from "../ts/platform/mod.ts";
import { Segment, WshmError } from "../ts/mod.ts";
import { describeObjects, type ObjectState } from "./objects.ts";
import { CliError } from "./errors.ts";
import { isNotCapable, type MapScan, scanMappers } from "./procfs.ts";
import { groupName, type TrustOwner, userName } from "../ts/trust.ts";

export const SHM_DIR = "/dev/shm";

/** What one peer of a segment is and whether it lives. */
export interface Peer {
  role: "creator" | "mapper" | "holder" | "unknown";
  pid: number;
  /** true alive, false dead, null cannot tell (counts as alive). */
  alive: boolean | null;
  /** e.g. the lock it holds. */
  detail?: string;
}

/** A wshm segment found in /dev/shm, with its header and peers. */
export interface SegmentReport {
  name: string;
  path: string;
  size: number;
  mode: number;
  /** The owner's uid, and its user name (the uid as text if /etc/passwd has none). */
  uid: number;
  owner: string;
  /** The file's gid, and its group name (the gid as text if /etc/group has none). */
  gid: number;
  group: string;
  version: number;
  /** "ready", "initialising", or "unreadable" / "corrupt" with `problem` saying why. */
  state: string;
  problem?: string;
  creatorPid: number;
  /** The creator's start time (clock ticks after boot), as text: it is a u64. */
  creatorStartTicks: string;
  createdMs: number;
  ageMs: number;
  /** False when /proc could not be read: processes that only map the segment are not known. */
  mappersChecked: boolean;
  peers: Peer[];
  /** Some peer is alive or cannot be checked. */
  inUse: boolean;
  objects?: ObjectState[];
}

interface Header {
  magic: number;
  version: number;
  state: number;
  statedSize: number;
  creatorPid: number;
  creatorStartTicks: bigint;
  createdMs: number;
  /** The core's check of the header: OK, INITIALISING, BAD_MAGIC, VERSION_MISMATCH or CORRUPT. */
  verdict: number;
}

/** What the file of a segment says, read through shm_open/fstat/pread without mapping it. */
interface FileFacts {
  size: number;
  mode: number;
  uid: number;
  gid: number;
  header: Header | null;
}

/**
 * Reads the file facts and fixed header of `name`; null when it cannot be
 * opened as a shared-memory object (a directory, a symlink: shm_open refuses
 * to follow). Throws WshmError NotFound / PermissionDenied.
 */
export function readFacts(name: string, posix: Posix, k: CoreConstants): FileFacts | null {
  let fd: number;
  try {
    fd = posix.shmOpen(name);
  } catch (error) {
    if (error instanceof WshmError && (error.code === "NotFound" || error.code === "PermissionDenied")) {
      throw error;
    }
    return null;
  }
  try {
    const { size, mode, uid, gid } = posix.stat(fd, name);
    const length = k.HEADER_CHECK_SIZE;
    if (size < length) return { size, mode, uid, gid, header: null };
    const bytes = posix.pread(fd, length, 0, name);
    if (bytes.length < length) return { size, mode, uid, gid, header: null };
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    // The core's verdict on the header (the check Segment.open makes too).
    const verdict = checkHeaderBytes(bytes, size);
    return {
      size,
      mode,
      uid,
      gid,
      header: {
        magic: view.getUint32(k.HEADER_MAGIC, true),
        version: view.getUint32(k.HEADER_VERSION, true),
        state: view.getUint32(k.HEADER_STATE, true),
        statedSize: Number(view.getBigUint64(k.HEADER_SEGMENT_SIZE, true)),
        creatorPid: view.getUint32(k.HEADER_CREATOR_PID, true),
        creatorStartTicks: view.getBigUint64(k.HEADER_CREATOR_START, true),
        createdMs: view.getFloat64(k.HEADER_CREATED_MS, true),
        verdict,
      },
    };
  } finally {
    posix.close(fd);
  }
}

/** The file of a segment name ("/jobs": segment names live directly in /dev/shm). */
export function pathOf(name: string): string {
  return `${SHM_DIR}${name}`;
}

/** Linux never hands out a pid above PID_MAX_LIMIT (2^22). */
const PID_MAX = 1 << 22;

/**
 * Liveness of a pid read from a segment. A corrupt header can hold any
 * number, and one that is no possible pid is simply not a live process (the
 * FFI behind processAlive takes an i32).
 */
export function alive(posix: Posix, pid: number, startTicks = 0n): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid > PID_MAX) return false;
  return pid === posix.pid || posix.processAlive(pid, startTicks);
}

/** Options of {@linkcode examine}. */
export interface ExamineOptions {
  /** Open the segment to read lock holders and object states (default true). */
  objects?: boolean;
  /** A map scan to reuse across segments (default: scan now). */
  mappers?: MapScan;
  /** listSegments: only names for which this returns true. */
  filter?: (name: string) => boolean;
  /**
   * Whose segments to open for their objects (default "any"): ls, gc and rm
   * only read them, to show their owner and holders and to judge liveness, so
   * every owner's segment is read; what it says is shown, never acted on.
   */
  trustOwner?: TrustOwner;
}

/**
 * Examines one /dev/shm entry: null if it is not a wshm segment (no magic, too
 * short, not a file shm_open will open), else its report. A segment whose
 * header holds the magic but fails the checks is reported as "corrupt".
 * Throws WshmError NotFound if there is no such segment.
 */
export async function examine(
  segmentName: string,
  options: ExamineOptions = {},
): Promise<SegmentReport | null> {
  const k = coreConstants();
  const posix = await platform();
  const facts = readFacts(segmentName, posix, k);
  const header = facts?.header;
  if (facts === null || header === null || header === undefined || header.verdict === k.BAD_MAGIC) {
    return null;
  }
  const mappers = options.mappers ?? (await scanMappers());
  const report: SegmentReport = {
    name: segmentName,
    path: pathOf(segmentName),
    size: facts.size,
    mode: facts.mode & 0o777,
    uid: facts.uid,
    owner: userName(posix, facts.uid) ?? String(facts.uid),
    gid: facts.gid,
    group: groupName(posix, facts.gid) ?? String(facts.gid),
    version: header.version,
    state: header.verdict === k.OK ? "ready" : header.verdict === k.INITIALISING ? "initialising" : "corrupt",
    creatorPid: header.creatorPid,
    creatorStartTicks: String(header.creatorStartTicks),
    createdMs: header.createdMs,
    // A corrupt header's creation time can be anything: no age then.
    ageMs: header.createdMs > 0 && header.createdMs <= Date.now() + 86_400_000
      ? Date.now() - header.createdMs
      : NaN,
    mappersChecked: mappers.checked,
    peers: [],
    inUse: false,
  };
  const peers = report.peers;
  if (header.creatorPid > 0) {
    peers.push({
      role: "creator",
      pid: header.creatorPid,
      alive: alive(posix, header.creatorPid, header.creatorStartTicks),
    });
  }
  for (const pid of mappers.byName.get(segmentName) ?? []) {
    peers.push({ role: "mapper", pid, alive: alive(posix, pid) });
  }
  // Root's processes are left out: a non-root caller can never read their
  // maps, and counting them would keep every segment forever.
  const shareable = (report.mode & 0o066) !== 0;
  for (const { pid, uid } of mappers.unreadable) {
    if (uid > 0 && (uid === report.uid || shareable)) peers.push({ role: "unknown", pid, alive: null });
  }
  if (header.verdict === k.VERSION_MISMATCH) {
    report.state = "corrupt";
    report.problem = `layout version ${header.version}; this wshm reads version ${k.LAYOUT_VERSION}`;
  } else if (header.verdict === k.CORRUPT) {
    report.problem = header.statedSize !== facts.size
      ? `its header states ${header.statedSize} bytes but the file has ${facts.size}`
      : "its header is not one wshm writes (state, size or directory)";
  } else if (report.state === "ready" && options.objects !== false) {
    try {
      using segment = Segment.open(segmentName, { timeoutMs: 0, trustOwner: options.trustOwner ?? "any" });
      report.objects = describeObjects(segment);
      peers.push(...holderPeers(report.objects, posix));
    } catch (error) {
      report.state = error instanceof WshmError && error.code === "PermissionDenied"
        ? "unreadable"
        : "corrupt";
      report.problem = error instanceof Error ? error.message : String(error);
    }
  }
  report.inUse = peers.some((p) => p.alive !== false);
  return report;
}

/** The holders and parties recorded in the objects, as peers. */
export function holderPeers(objects: ObjectState[], posix: Posix): Peer[] {
  const peers: Peer[] = [];
  for (const object of objects) {
    for (const pid of object.pids ?? []) {
      peers.push({
        role: "holder",
        pid,
        alive: alive(posix, pid),
        detail: `${object.kind} "${object.name}"`,
      });
    }
  }
  return peers;
}

/** The identity of a segment file (creator and creation time), to notice replacement. */
export async function identity(name: string): Promise<string | null> {
  const facts = readFacts(name, await platform(), coreConstants());
  const h = facts?.header;
  return h ? `${h.creatorPid}:${h.creatorStartTicks}:${h.createdMs}` : null;
}

/** Every wshm segment in /dev/shm, by name. Needs --allow-all (see the top of this file). */
export async function listSegments(options: ExamineOptions = {}): Promise<SegmentReport[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(SHM_DIR)) {
      if (entry.isFile && (options.filter?.(`/${entry.name}`) ?? true)) names.push(`/${entry.name}`);
    }
  } catch (error) {
    if (!isNotCapable(error)) throw error;
    throw new CliError(
      "PermissionDenied",
      "Cannot list /dev/shm: Deno allows reading /dev only with --allow-all (denoland/deno#30979); " +
        "run `wshm` through its bin or `deno task wshm`, which grant it to ls and gc",
    );
  }
  names.sort();
  const mappers = options.mappers ?? (await scanMappers());
  const reports: SegmentReport[] = [];
  for (const name of names) {
    try {
      const report = await examine(name, { ...options, mappers });
      if (report !== null) reports.push(report);
    } catch (error) {
      // Removed meanwhile, another user's, or a name wshm itself would reject: not ours to show.
      if (error instanceof WshmError) continue;
      throw error;
    }
  }
  return reports;
}

/** "nobody (uid 65534)" */
export function describeOwner(report: Pick<SegmentReport, "owner" | "uid">): string {
  return report.owner === String(report.uid) ? `uid ${report.uid}` : `${report.owner} (uid ${report.uid})`;
}

/**
 * A ForeignOwner error from the library told in the CLI's terms: the flag
 * `--trust-owner` instead of the `trustOwner` option. Other errors pass as they are.
 */
export function explainForeign(error: unknown, name: string, posix: Posix): unknown {
  if (!(error instanceof WshmError && error.code === "ForeignOwner")) return error;
  let uid: number | undefined;
  try {
    uid = readFacts(name, posix, coreConstants())?.uid;
  } catch {
    return error;
  }
  if (uid === undefined) return error;
  const user = userName(posix, uid);
  const who = user === undefined ? `uid ${uid}` : `${user} (uid ${uid})`;
  const flag = user === undefined ? `--trust-owner ${uid}` : `--trust-owner ${user} (or ${uid})`;
  return new WshmError(
    "ForeignOwner",
    `Cannot open segment "${name}": it is owned by ${who}, not by you; pass ${flag} if you trust that user`,
  );
}

/** Alive / dead / unknown as a word. */
export function livenessWord(alive: boolean | null): string {
  return alive === null ? "unknown" : alive ? "alive" : "dead";
}
