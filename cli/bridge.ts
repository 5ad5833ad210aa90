// `wshm bridge SEGMENT --nats URL [--export NAME...] [--import NAME...]`: the
// library's Bridge (ts/bridge.ts) as a long-running command. It prints one
// line when it starts and one per change of the connection (on stderr), and
// publishes its state in the segment for `wshm inspect`. SIGINT or SIGTERM
// gives every role up, closes the NATS connection, then ends by the signal.
//
// Credentials: --token and --password are visible to other users in the
// process list; WSHM_NATS_TOKEN and WSHM_NATS_PASSWORD are read when the
// options are absent. No credential is ever printed or written to the
// segment (URLs are shown without their user:password@).

import { Bridge } from "../ts/bridge.ts";
import { platform } from "../ts/platform/mod.ts";
import { onTerminate } from "./signals.ts";
import { UsageError } from "./errors.ts";
import { writeOut } from "./format.ts";
import { openOrCreate } from "./pubsub.ts";

export interface BridgeCliOptions {
  nats: string[];
  export?: string[];
  import?: string[];
  prefix: string;
  token?: string;
  user?: string;
  password?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  requestTimeout: number;
  size: number;
  remove?: boolean;
  json?: boolean;
}

function env(name: string): string | undefined {
  const value = Deno.env.get(name);
  return value === undefined || value === "" ? undefined : value;
}

export async function bridge(name: string, options: BridgeCliOptions): Promise<void> {
  const exports = options.export ?? [];
  const imports = options.import ?? [];
  if (exports.length === 0 && imports.length === 0) {
    throw new UsageError("Nothing to bridge: name at least one --export NAME or --import NAME");
  }
  const token = options.token ?? env("WSHM_NATS_TOKEN");
  const password = options.password ?? env("WSHM_NATS_PASSWORD");
  if (options.user === undefined && password !== undefined) {
    throw new UsageError("A NATS password needs --user");
  }
  const tls = options.tlsCa === undefined && options.tlsCert === undefined && options.tlsKey === undefined
    ? undefined
    : { caFile: options.tlsCa, certFile: options.tlsCert, keyFile: options.tlsKey };
  await platform();
  const stop = new AbortController();
  using _signals = onTerminate(() => stop.abort());
  const { segment, created } = openOrCreate(name, options.size);
  try {
    const running = await Bridge.start({
      segment,
      nats: { servers: options.nats, token, user: options.user, password, tls },
      exports,
      imports,
      prefix: options.prefix,
      requestTimeoutMs: options.requestTimeout,
      log: (line) => console.error(`bridge ${name}: ${line}`),
    });
    try {
      const stats = running.stats();
      if (options.json) {
        writeOut(
          JSON.stringify({
            event: "started",
            segment: name,
            pid: stats.pid,
            servers: stats.servers,
            exports,
            imports,
          }) + "\n",
        );
      } else {
        const list = (what: string, names: string[]) =>
          names.length === 0 ? [] : [`${what} ${names.join(", ")}`];
        writeOut(
          `bridging ${name} (${[...list("exports", exports), ...list("imports", imports)].join("; ")}) ` +
            `through ${stats.servers.join(", ")}, prefix ${stats.prefix}; Ctrl-C stops\n`,
        );
      }
      await new Promise<void>((resolve) => {
        if (stop.signal.aborted) resolve();
        stop.signal.addEventListener("abort", () => resolve(), { once: true });
      });
    } finally {
      await running.close();
      if (options.json) {
        writeOut(JSON.stringify({ event: "stopped", objects: running.stats().objects }) + "\n");
      }
    }
  } finally {
    if (options.remove && created) segment.unlink();
    segment.close();
  }
}
