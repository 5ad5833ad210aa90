// `wshm serve NAME`: creates the segment and its channel (exchange.ts),
// answers requests until SIGINT or SIGTERM, then removes the segment.
//
// The server waits for requests in blocking calls of at most WAIT_SLICE_MS
// (fastest wake-up) and returns to the event loop at least every YIELD_MS, so
// that signals and the status line are still handled under full load.

import { createServer } from "./exchange.ts";
import { HANDLERS } from "./handlers.ts";
import { colors, formatRate, jsonText, stdoutIsTerminal, writeOut } from "./format.ts";
import { onTerminate } from "./signals.ts";

const WAIT_SLICE_MS = 50;
const YIELD_MS = 50;
const STATUS_MS = 250;

/** Options of {@linkcode serve}. */
export interface ServeOptions {
  size: number;
  mode: number;
  /** The segment's group (--group: a gid or a group name). */
  group?: number | string;
  handler: string;
  messageSize: number;
  /** 0: the classic exchange; K: many-client mode with K client slots. */
  clients: number;
  wait: "adaptive" | "spin" | "park";
  quiet?: boolean;
  json?: boolean;
  /** Stop when this process is gone (the demo passes its own pid). */
  parent?: number;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Runs `serve` until a signal (or the parent's death). */
export async function serve(segmentName: string, options: ServeOptions): Promise<void> {
  const handle = HANDLERS[options.handler].handle;
  const c = colors();
  const server = createServer(segmentName, {
    size: options.size,
    mode: options.mode,
    group: options.group,
    messageSize: options.messageSize,
    clients: options.clients,
    wait: options.wait,
  });
  const posix = server.segment.posix;
  let stop: string | undefined;
  using _signals = onTerminate((signal) => (stop ??= signal));
  const started = performance.now();
  const live = stdoutIsTerminal() && !options.quiet && !options.json;
  try {
    if (options.json) {
      console.log(jsonText({
        event: "ready",
        name: segmentName,
        pid: Deno.pid,
        handler: options.handler,
        clients: options.clients,
        wait: options.wait,
      }));
    } else {
      console.log(
        `${c.green("serving")} ${c.bold(segmentName)} ` +
          c.dim(
            `(handler ${options.handler}, ${
              options.clients ? `${options.clients} client slots` : "classic exchange"
            }, ` +
              `${options.wait} wait, pid ${Deno.pid})`,
          ) +
          c.dim(" - Ctrl-C to stop"),
      );
    }
    let lastYield = performance.now();
    let lastStatus = 0;
    let lastCount = 0;
    while (stop === undefined) {
      server.serveOne(handle, WAIT_SLICE_MS);
      const now = performance.now();
      if (now - lastYield < YIELD_MS) continue;
      lastYield = now;
      await tick();
      if (options.parent !== undefined && !posix.processAlive(options.parent, 0n)) stop ??= "parent exited";
      if (live && now - lastStatus >= STATUS_MS) {
        const served = server.served();
        const rate = lastStatus === 0 ? 0 : ((served - lastCount) * 1000) / (now - lastStatus);
        writeOut(`\r\x1b[K${c.cyan("●")} ${served.toLocaleString("en-US")} requests  ${formatRate(rate)}`);
        lastStatus = now;
        lastCount = served;
      }
    }
  } finally {
    const served = server.served();
    const seconds = (performance.now() - started) / 1000;
    server.close();
    server.segment.unlink();
    if (live) writeOut("\r\x1b[K");
    if (options.json) {
      console.log(
        jsonText({
          event: "stopped",
          name: segmentName,
          requests: served,
          seconds,
          reason: stop ?? "error",
        }),
      );
    } else {
      console.log(
        `${c.dim("stopped")} ${segmentName}: ${served.toLocaleString("en-US")} requests in ${
          seconds.toFixed(1)
        } s` +
          c.dim(` (${stop ?? "error"}); segment removed`),
      );
    }
  }
}
