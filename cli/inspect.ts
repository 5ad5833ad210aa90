// `wshm inspect NAME [--watch]`: the header, the directory, and the state of
// every object (lock holders and waiters, semaphore values, queue depths).
// With --watch it refreshes in place and shows rates of the counters that grow.

import { Segment, type TrustOwner } from "../ts/mod.ts";
import {
  colors,
  formatAge,
  formatBytes,
  formatMode,
  formatRate,
  jsonText,
  printJson,
  stdoutIsTerminal,
  table,
  writeOut,
} from "./format.ts";
import { COUNTERS, describeObjects, type ObjectState } from "./objects.ts";
import { type BridgeStatusRecord, readBridgeStatus } from "../ts/bridge_status.ts";
import {
  alive,
  describeOwner,
  examine,
  explainForeign,
  holderPeers,
  livenessWord,
  type SegmentReport,
} from "./shm.ts";
import { platform } from "../ts/platform/mod.ts";
import { describePeers, statusWord } from "./ls.ts";
import { CliError } from "./errors.ts";
import { onTerminate } from "./signals.ts";

/** Options of {@linkcode inspect}. */
export interface InspectOptions {
  json?: boolean;
  watch?: boolean;
  /** Refresh period of --watch, ms. */
  interval: number;
  /** Stop --watch after this many refreshes (default: until Ctrl-C). */
  frames?: number;
  /** Open a segment of this owner too (--trust-owner: a uid, a user name or "any"). */
  trustOwner?: TrustOwner;
}

interface Snapshot {
  report: SegmentReport;
  used: number;
  objects: ObjectState[];
  /** The segment's bridge as it last published itself, and whether its process is alive. */
  bridge: (BridgeStatusRecord & { alive: boolean }) | null;
  at: number;
}

function snapshot(segment: Segment, report: SegmentReport): Snapshot {
  const k = segment.constants;
  return {
    report,
    used: segment.view().getUint32(k.HEADER_ALLOC_TOP, true),
    objects: describeObjects(segment),
    bridge: bridgeOf(segment),
    at: performance.now(),
  };
}

function bridgeOf(segment: Segment): Snapshot["bridge"] {
  const status = readBridgeStatus(segment);
  if (status === null) return null;
  const pid = Number.isSafeInteger(status.pid) ? status.pid : 0;
  return { ...status, alive: pid > 0 && alive(segment.posix, pid) };
}

/** The bridge's lines: who, connected where, and one row per bridged object with its rates. */
function renderBridge(b: NonNullable<Snapshot["bridge"]>): string[] {
  const c = colors();
  const age = formatAge(Math.max(0, Date.now() - b.updatedAt));
  const who = b.alive ? `pid ${b.pid} (alive)` : `pid ${b.pid} (dead: as it last published, ${age} ago)`;
  const connection = b.connection === "connected" ? c.green("connected") : c.yellow(String(b.connection));
  const lines = [
    `${c.dim("bridge")}   ${who}, ${connection} to ${b.servers.join(", ")}, prefix ${b.prefix}, ` +
    `${b.reconnects} reconnect${b.reconnects === 1 ? "" : "s"}, updated ${age} ago`,
  ];
  const rows = b.objects.map((o) => [
    o.name,
    o.kind,
    o.direction,
    o.state,
    `${o.sent} (${formatRate(o.sentPerSecond ?? 0)})`,
    `${o.received} (${formatRate(o.receivedPerSecond ?? 0)})`,
    String(o.missed),
    String(o.malformed),
    String(o.errors),
  ]);
  if (rows.length > 0) {
    lines.push(
      table(
        [
          "BRIDGED",
          "KIND",
          "WAY",
          "STATE",
          "OUT (to NATS)",
          "IN (from NATS)",
          "MISSED",
          "MALFORMED",
          "ERRORS",
        ],
        rows,
        ["left", "left", "left", "left", "right", "right", "right", "right", "right"],
      ),
    );
  }
  lines.push("");
  return lines;
}

function rates(now: Snapshot, before: Snapshot | undefined): Map<string, Record<string, number>> {
  const result = new Map<string, Record<string, number>>();
  if (before === undefined) return result;
  const seconds = (now.at - before.at) / 1000;
  for (const object of now.objects) {
    const old = before.objects.find((o) => o.name === object.name && o.kind === object.kind);
    if (old === undefined || seconds <= 0) continue;
    const r: Record<string, number> = {};
    for (const [field, value] of Object.entries(object.values)) {
      const previous = old.values[field];
      if (COUNTERS.has(field) && typeof value === "number" && typeof previous === "number") {
        r[field] = (value - previous) / seconds;
      }
    }
    result.set(`${object.kind}:${object.name}`, r);
  }
  return result;
}

function render(s: Snapshot, r: Map<string, Record<string, number>>): string {
  const c = colors();
  const h = s.report;
  const creator = h.peers.find((p) => p.role === "creator");
  const created = Number.isFinite(h.ageMs)
    ? `${new Date(h.createdMs).toISOString()} (${formatAge(h.ageMs)} ago)`
    : "at an unknown time (the header's clock is implausible)";
  const lines = [
    `${c.bold(h.name)}  ${formatBytes(h.size)}  ${formatMode(h.mode)}  ${h.owner}  ${statusWord(h)}`,
    `${c.dim("owner")}    ${describeOwner(h)}, group ${
      h.group === String(h.gid) ? `gid ${h.gid}` : `${h.group} (gid ${h.gid})`
    }`,
    `${c.dim("layout")}   version ${h.version}, ${h.state}`,
    `${c.dim("created")}  ${created} by pid ${h.creatorPid} (${livenessWord(creator?.alive ?? false)})`,
    `${c.dim("peers")}    ${describePeers(h.peers)}`,
    `${c.dim("used")}     ${formatBytes(s.used)} of ${formatBytes(h.size)}, ${s.objects.length - 1} objects`,
    "",
  ];
  if (s.bridge !== null) lines.push(...renderBridge(s.bridge));
  const rows = s.objects.map((o) => {
    const rate = r.get(`${o.kind}:${o.name}`) ?? {};
    const facts = o.facts.map(([name, value]) => {
      const shown = value.startsWith("pid ") ? c.cyan(value) : value;
      const perSecond = rate[name] !== undefined ? c.dim(` (${formatRate(rate[name])})`) : "";
      return `${c.dim(name)} ${shown}${perSecond}`;
    });
    return [o.name, o.kind, String(o.offset), o.size ? formatBytes(o.size) : "-", facts.join("  ")];
  });
  lines.push(table(["OBJECT", "KIND", "OFFSET", "SIZE", "STATE"], rows, ["left", "left", "right", "right"]));
  return lines.join("\n");
}

function toJson(s: Snapshot, r: Map<string, Record<string, number>>) {
  const { objects: _objects, ...header } = s.report;
  return {
    ...header,
    used: s.used,
    bridge: s.bridge,
    objects: s.objects.map((o) => ({
      name: o.name,
      kind: o.kind,
      offset: o.offset,
      size: o.size,
      ...o.values,
      ...(r.has(`${o.kind}:${o.name}`) ? { rates: r.get(`${o.kind}:${o.name}`) } : {}),
    })),
  };
}

/** Runs `inspect`. */
export async function inspect(segmentName: string, options: InspectOptions): Promise<void> {
  let report = await examine(segmentName, { objects: false });
  if (report === null) {
    throw new CliError("BadMagic", `Cannot inspect "${segmentName}": it is not a wshm segment`);
  }
  let opened: Segment;
  try {
    opened = Segment.open(segmentName, { timeoutMs: 1000, trustOwner: options.trustOwner });
  } catch (error) {
    throw explainForeign(error, segmentName, await platform());
  }
  using segment = opened;
  let before: Snapshot | undefined;
  const terminal = stdoutIsTerminal() && !options.json;
  let stop = false;
  using _signals = onTerminate(() => (stop = true));
  let frames = 0;
  if (terminal && options.watch) writeOut("\x1b[?25l");
  try {
    while (true) {
      const now = snapshot(segment, report);
      const r = rates(now, before);
      // Holders come from this snapshot; keep the report's peer list in step with it.
      report.peers = report.peers.filter((p) => p.role !== "holder");
      report.peers.push(...holderPeers(now.objects, segment.posix));
      report.inUse = report.peers.some((p) => p.alive !== false);
      if (options.json) {
        const data = toJson(now, r);
        if (options.watch) console.log(jsonText(data));
        else printJson(data);
      } else if (terminal && options.watch) {
        writeOut(
          `\x1b[H\x1b[2J${render(now, r)}\n${
            colors().dim(`refreshing every ${options.interval} ms; Ctrl-C to stop`)
          }\n`,
        );
      } else {
        console.log(render(now, r) + (options.watch ? "\n" : ""));
      }
      frames++;
      if (!options.watch || stop || (options.frames !== undefined && frames >= options.frames)) break;
      before = now;
      await sleepUnless(options.interval, () => stop);
      if (stop) break;
      // A segment removed meanwhile stays mapped here: keep showing it.
      report = (await examine(segmentName, { objects: false }).catch(() => null)) ?? report;
    }
  } finally {
    if (terminal && options.watch) writeOut("\x1b[?25h");
  }
}

async function sleepUnless(ms: number, stopped: () => boolean): Promise<void> {
  const end = performance.now() + ms;
  while (!stopped() && performance.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(50, end - performance.now())));
  }
}
