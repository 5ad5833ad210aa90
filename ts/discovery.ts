/**
 * Service discovery: every object (service) in every wshm segment in
 * /dev/shm, with its kind, its parties (the processes holding its roles)
 * and whether they live; and a wait until a named service appears.
 *
 * /dev/shm has no change notification that all three runtimes can reach
 * without a thread, so `waitForService` looks again every `pollMs`.
 *
 * @module
 */

import { readdirSync } from "node:fs";
import { Segment } from "./segment.ts";
import type { ObjectInfo, OpenOptions } from "./segment.ts";
import { WshmError } from "./errors.ts";
import { checkCallOptions } from "./names.ts";
import { timeoutOption } from "./wait.ts";

/** A process holding a role of a service. */
export interface ServiceParty {
  /** "producer", "consumer", "publisher", "subscriber", "server", "client" or "holder". */
  role: string;
  pid: number;
  alive: boolean;
}

export interface ServiceInfo {
  /** The segment's name ("/jobs"). */
  segment: string;
  /** The object's name in it. */
  name: string;
  kind: string;
  size: number;
  parties: ServiceParty[];
  /** True if any party is alive (false also when the kind has no recorded parties, e.g. a queue). */
  live: boolean;
}

/** A segment that could not be read: foreign, corrupt, of another layout version, ... */
export interface DiscoveryProblem {
  segment: string;
  code: string;
  message: string;
}

export interface DiscoverOptions {
  /** Only segments whose name starts with this ("/jobs"; default: all). */
  prefix?: string;
  /** Passed to Segment.open for each segment (trustOwner). */
  open?: OpenOptions;
}

export interface Discovery {
  services: ServiceInfo[];
  problems: DiscoveryProblem[];
}

const SHM = "/dev/shm";

/** The names of the files in /dev/shm that may be wshm segments ("/name"). */
function candidates(prefix: string): string[] {
  let files: string[];
  try {
    files = readdirSync(SHM);
  } catch (error) {
    throw new WshmError("PermissionDenied", `Cannot list ${SHM}: ${(error as Error).message}`);
  }
  // Semaphores (sem.*) and other programs' files are skipped by the magic check on open.
  return files.map((f) => `/${f}`).filter((f) => f.startsWith(prefix) && !f.startsWith("/sem."));
}

/** The parties of one object, read through its ordinary handle (opening takes no role). */
function partiesOf(segment: Segment, object: ObjectInfo, alive: (pid: number) => boolean): ServiceParty[] {
  const party = (
    role: string,
    pid: number,
  ): ServiceParty[] => (pid > 0 ? [{ role, pid, alive: alive(pid) }] : []);
  const open = { create: false };
  switch (object.kind) {
    case "ring": {
      const s = segment.ring(object.name, open).stats();
      return [...party("producer", s.producerPid), ...party("consumer", s.consumerPid)];
    }
    case "topic": {
      const s = segment.topic(object.name, open).stats();
      return [
        ...party("publisher", s.publisherPid),
        ...s.attached.flatMap((a) => party("subscriber", a.pid)),
      ];
    }
    case "channel": {
      const s = segment.channel(object.name, open).stats();
      return [...party("server", s.serverPid), ...party("client", s.accessHolderPid)];
    }
    case "mutex":
      return party("holder", segment.mutex(object.name, open).holder);
    default:
      return [];
  }
}

/**
 * Lists every service of every wshm segment in /dev/shm (or those whose name
 * starts with `prefix`). Segments that cannot be read are listed in
 * `problems`, with the code Segment.open gave, and skipped.
 */
export function discover(options: DiscoverOptions = {}): Discovery {
  checkCallOptions(options);
  const services: ServiceInfo[] = [];
  const problems: DiscoveryProblem[] = [];
  for (const name of candidates(options.prefix ?? "/")) {
    let segment: Segment;
    try {
      segment = Segment.open(name, { timeoutMs: 0, ...options.open });
    } catch (error) {
      const code = error instanceof WshmError ? error.code : "Unknown";
      // Not a wshm segment at all: not a problem of discovery, just another program's file.
      if (code !== "BadMagic" && code !== "InvalidSize") {
        problems.push({ segment: name, code, message: (error as Error).message });
      }
      continue;
    }
    try {
      const posix = segment.posix;
      const alive = (pid: number) => posix.processAlive(pid, 0n);
      for (const object of segment.objects()) {
        let parties: ServiceParty[] = [];
        try {
          parties = partiesOf(segment, object, alive);
        } catch (error) {
          problems.push({
            segment: name,
            code: error instanceof WshmError ? error.code : "Unknown",
            message: (error as Error).message,
          });
        }
        services.push({
          segment: name,
          name: object.name,
          kind: object.kind,
          size: object.size,
          parties,
          live: parties.some((p) => p.alive),
        });
      }
    } catch (error) {
      problems.push({
        segment: name,
        code: error instanceof WshmError ? error.code : "Unknown",
        message: (error as Error).message,
      });
    } finally {
      segment.close();
    }
  }
  return { services, problems };
}

export interface WaitForServiceOptions extends DiscoverOptions {
  /** Only in this segment ("/jobs"). */
  segment?: string;
  /** Only of this kind ("topic"). */
  kind?: string;
  /** Give up with `Timeout` after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** How often to look (default 20 ms). */
  pollMs?: number;
  signal?: AbortSignal;
}

/** Resolves once a service named `name` (of `kind`, in `segment`, if given) exists. */
export async function waitForService(
  name: string,
  options: WaitForServiceOptions = {},
): Promise<ServiceInfo> {
  checkCallOptions(options);
  const timeoutMs = timeoutOption(options.timeoutMs);
  const pollMs = options.pollMs ?? 20;
  const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
  const prefix = options.segment ?? options.prefix;
  while (true) {
    if (options.signal?.aborted) throw options.signal.reason;
    const found = discover({ prefix, open: options.open }).services.find((s) =>
      s.name === name && (options.kind === undefined || s.kind === options.kind) &&
      (options.segment === undefined || s.segment === options.segment)
    );
    if (found !== undefined) return found;
    const remaining = deadline - performance.now();
    if (remaining <= 0) {
      throw new WshmError(
        "Timeout",
        `Cannot find service "${name}": it did not appear within ${timeoutMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, remaining)));
  }
}
