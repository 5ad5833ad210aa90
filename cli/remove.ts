// `wshm rm NAME...` and `wshm gc`: removing segments, never one in use.
//
// rm removes the named segments unless a peer is alive (see shm.ts for what a
// peer is); --force removes them anyway, and also removes files that are not
// wshm segments. gc removes every wshm segment whose peers are all dead, and
// keeps, when in doubt: segments with a live or uncheckable peer, and corrupt
// ones (their lock holders cannot be read).
//
// Between the check and the unlink a process could still open the segment;
// the unlink only removes the name (mapped memory lives on), and the segment's identity
// is checked again right before it so that a segment recreated under the same
// name in between is never removed (identity = creator pid, its start time
// and the creation time, from the header).

import { Segment, WshmError } from "../ts/mod.ts";
import { CliError } from "./errors.ts";
import { colors, printJson } from "./format.ts";
import { describePeers } from "./ls.ts";
import { examine, identity, listSegments, pathOf, type SegmentReport } from "./shm.ts";

async function unlinkIfSame(report: SegmentReport): Promise<boolean> {
  const now = await identity(report.name).catch(() => null);
  if (now !== `${report.creatorPid}:${report.creatorStartTicks}:${report.createdMs}`) return false;
  Segment.unlink(report.name);
  return true;
}

/** Runs `rm`. */
export async function rm(names: string[], options: { force?: boolean; json?: boolean }): Promise<void> {
  const removed: string[] = [];
  const c = colors();
  for (const name of names) {
    const report = await examine(name).catch((error) => {
      if (error instanceof WshmError && error.code === "NotFound") {
        throw new WshmError("NotFound", `Cannot remove segment "${name}": it does not exist`);
      }
      throw error;
    });
    if (report === null) {
      if (!options.force) {
        throw new CliError(
          "BadMagic",
          `Cannot remove "${name}": ${pathOf(name)} is not a wshm segment (use --force to remove it anyway)`,
        );
      }
      Segment.unlink(name);
    } else if (report.inUse && !options.force) {
      throw new CliError(
        "InUse",
        `Cannot remove segment "${name}": it is in use (${describePeers(report.peers)}); ` +
          "stop its peers first, or use --force",
      );
    } else if (!(await unlinkIfSame(report))) {
      throw new WshmError(
        "NotFound",
        `Cannot remove segment "${name}": it was replaced or removed meanwhile`,
      );
    }
    removed.push(name);
    if (!options.json) console.log(`${c.green("removed")} ${name}`);
  }
  if (options.json) printJson({ removed });
}

/**
 * Runs `gc`. With --dry-run nothing is removed, so --json lists the segments
 * under "wouldRemove" (and "removed" is empty); NAMEs that name no segment are
 * listed under "missing" (not an error: there is nothing to collect).
 */
export async function gc(names: string[], options: { dryRun?: boolean; json?: boolean }): Promise<void> {
  const c = colors();
  const chosen: string[] = [];
  const kept: Array<{ name: string; reason: string }> = [];
  const only = new Set(names);
  const candidates = only.size === 0
    ? await listSegments()
    : await listSegments({ filter: (name) => only.has(name) });
  const missing = [...only].filter((name) => !candidates.some((report) => report.name === name));
  for (const report of candidates) {
    let reason: string | undefined;
    if (report.state === "corrupt" || report.state === "unreadable") {
      reason = `${report.state}: ${report.problem ?? "its locks cannot be read"}`;
    } else if (report.inUse) {
      reason = `in use: ${describePeers(report.peers)}`;
    }
    if (reason !== undefined) {
      kept.push({ name: report.name, reason });
      continue;
    }
    if (options.dryRun || (await unlinkIfSame(report))) chosen.push(report.name);
  }
  const dryRun = options.dryRun === true;
  if (options.json) {
    printJson({
      dryRun,
      removed: dryRun ? [] : chosen,
      ...(dryRun ? { wouldRemove: chosen } : {}),
      kept,
      missing,
    });
    return;
  }
  const verb = dryRun ? "would remove" : "removed";
  for (const name of chosen) console.log(`${c.green(verb)} ${name}`);
  for (const k of kept) console.log(`${c.dim("kept")} ${k.name} ${c.dim(`(${k.reason})`)}`);
  for (const name of missing) {
    console.log(
      `${c.dim("no segment")} ${name} ${c.dim(`(${pathOf(name)} does not exist or is not a wshm segment)`)}`,
    );
  }
  if (chosen.length === 0 && kept.length === 0 && missing.length === 0) {
    console.log(c.dim("No wshm segments in /dev/shm."));
  } else if (chosen.length === 0) {
    console.log(c.dim(dryRun ? "Nothing would be removed." : "Nothing to remove."));
  }
}
