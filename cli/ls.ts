// `wshm ls`: the wshm segments in /dev/shm, with their peers.

import { colors, formatAge, formatBytes, formatMode, printJson, table } from "./format.ts";
import { listSegments, type Peer, type SegmentReport } from "./shm.ts";
import { discover, type ServiceInfo } from "../ts/mod.ts";
import { platform } from "../ts/platform/mod.ts";

/** "creator 12 alive, 2 mapping, holder 40 dead" */
export function describePeers(peers: Peer[]): string {
  const c = colors();
  const parts: string[] = [];
  const word = (p: Peer) => (p.alive === null ? c.yellow("?") : p.alive ? c.green("alive") : c.red("dead"));
  for (const p of peers.filter((p) => p.role === "creator")) parts.push(`creator ${p.pid} ${word(p)}`);
  const mappers = peers.filter((p) => p.role === "mapper" && p.alive !== false);
  if (mappers.length > 0) parts.push(`${mappers.length} mapping`);
  for (const p of peers.filter((p) => p.role === "holder")) parts.push(`holder ${p.pid} ${word(p)}`);
  const unknown = peers.filter((p) => p.role === "unknown").length;
  if (unknown > 0) parts.push(c.yellow(`${unknown} unreadable`));
  return parts.join(", ") || "none";
}

/** "in use" / "stale" / "corrupt", coloured. */
export function statusWord(report: SegmentReport): string {
  const c = colors();
  if (report.state === "corrupt" || report.state === "unreadable") {
    return c.red(report.state) + (report.inUse ? " (in use)" : "");
  }
  if (report.state === "initialising") return c.yellow("initialising");
  return report.inUse ? c.green("in use") : c.yellow("stale");
}

/**
 * `ls --objects`: every service (object) of every wshm segment, with its kind
 * and its parties (the processes holding its roles) alive or dead, from the
 * library's discover().
 */
async function lsObjects(options: { json?: boolean }): Promise<void> {
  await platform();
  const { services, problems } = discover({ open: { trustOwner: "any" } });
  if (options.json) {
    printJson({ services, problems });
    return;
  }
  const c = colors();
  if (services.length === 0) console.log(c.dim("No objects in any wshm segment in /dev/shm."));
  else {
    const parties = (s: ServiceInfo) =>
      s.parties.map((p) => `${p.role} ${p.pid} ${p.alive ? c.green("alive") : c.red("dead")}`).join(", ") ||
      "-";
    const rows = services.map((s) => [c.bold(s.segment), s.name, s.kind, formatBytes(s.size), parties(s)]);
    console.log(
      table(["SEGMENT", "OBJECT", "KIND", "SIZE", "PARTIES"], rows, ["left", "left", "left", "right"]),
    );
  }
  for (const p of problems) console.log(c.dim(`${p.segment}: [${p.code}] ${p.message}`));
}

/** Runs `ls`; prints a table, or JSON with `json`; with `objects`, the objects instead of the segments. */
export async function ls(options: { json?: boolean; objects?: boolean }): Promise<void> {
  if (options.objects) return await lsObjects(options);
  const reports = await listSegments();
  if (options.json) {
    printJson(reports);
    return;
  }
  const c = colors();
  if (reports.length === 0) {
    console.log(c.dim("No wshm segments in /dev/shm."));
    return;
  }
  const rows = reports.map((r) => [
    c.bold(r.name),
    formatBytes(r.size),
    r.owner === String(r.uid) ? r.owner : `${r.owner} (${r.uid})`,
    r.group,
    formatMode(r.mode),
    formatAge(r.ageMs),
    statusWord(r),
    describePeers(r.peers),
  ]);
  console.log(
    table(["NAME", "SIZE", "OWNER", "GROUP", "MODE", "AGE", "STATUS", "PEERS"], rows, [
      "left",
      "right",
      "left",
      "left",
      "left",
      "right",
    ]),
  );
  for (const r of reports.filter((r) => r.problem)) console.log(c.dim(`${r.name}: ${r.problem}`));
}
