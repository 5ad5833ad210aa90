// What /proc says: which processes map which /dev/shm file. Deno reads /proc
// only under --allow-all (see shm.ts); without it the scan reports `checked:
// false` and finds nothing. User and group names come from ts/trust.ts.

/**
 * Who maps which segment, from /proc/PID/maps (keyed by segment name), and
 * the processes we could not read. `checked` is false when Deno would not
 * let us read /proc at all (not run with --allow-all).
 */
export interface MapScan {
  checked: boolean;
  byName: Map<string, Set<number>>;
  unreadable: Array<{ pid: number; uid: number }>;
}

/** True for the error Deno throws when a path needs a permission it lacks. */
export function isNotCapable(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied;
}

/** Scans every process's maps once (the CLI's own process excluded). */
export async function scanMappers(): Promise<MapScan> {
  const scan: MapScan = { checked: true, byName: new Map(), unreadable: [] };
  const self = Deno.pid;
  const line = /^\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+\/dev\/shm(\/.*?)( \(deleted\))?$/;
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync("/proc")];
  } catch (error) {
    if (!isNotCapable(error)) throw error;
    scan.checked = false;
    return scan;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    if (pid === self) continue;
    let text: string;
    try {
      text = await Deno.readTextFile(`/proc/${pid}/maps`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue; // exited meanwhile
      let uid = -1;
      try {
        uid = (await Deno.stat(`/proc/${pid}`)).uid ?? -1;
      } catch {
        continue;
      }
      scan.unreadable.push({ pid, uid });
      continue;
    }
    for (const row of text.split("\n")) {
      if (!row.includes("/dev/shm/")) continue;
      const m = line.exec(row);
      // A "(deleted)" mapping is of a segment whose name is gone (maybe reused): not a peer.
      if (m === null || m[2] !== undefined) continue;
      let pids = scan.byName.get(m[1]);
      if (pids === undefined) scan.byName.set(m[1], pids = new Set());
      pids.add(pid);
    }
  }
  return scan;
}
