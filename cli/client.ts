// `wshm client NAME [MESSAGE...]`: sends each message (or each stdin line)
// to the server of NAME and prints each response; with --count, a load run
// that reports latency percentiles and throughput.

import { type ClientEnd, connect, type LoadMeasurement, runLoad } from "./exchange.ts";
import { colors, formatMicros, formatRate, jsonText, printJson, stderrIsTerminal, table } from "./format.ts";
import { explainForeign } from "./shm.ts";
import { platform } from "../ts/platform/mod.ts";
import { CliError, UsageError } from "./errors.ts";
import { HANDLERS } from "./handlers.ts";
import { type TrustOwner, WshmError } from "../ts/mod.ts";

/** Options of {@linkcode client}. */
export interface ClientOptions {
  count?: number;
  size: number;
  timeout: number;
  wait: "adaptive" | "spin" | "park";
  /** Load mode: the handler whose answers the responses must equal. */
  expect?: string;
  json?: boolean;
  /** Open a segment of this owner too (--trust-owner: a uid, a user name or "any"). */
  trustOwner?: TrustOwner;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function* stdinLines(): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of Deno.stdin.readable) {
    pending += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, newline).replace(/\r$/, "");
      pending = pending.slice(newline + 1);
    }
  }
  if (pending.length > 0) yield pending;
}

function explain(error: unknown, name: string): unknown {
  if (error instanceof WshmError && error.code === "NotFound") {
    return new WshmError("NotFound", `${error.message} (start a server with \`wshm serve ${name}\`)`);
  }
  if (error instanceof WshmError && error.code === "Timeout") {
    return new WshmError(
      "Timeout",
      `${error.message}: no answer from the server of "${name}" (is it running?)`,
    );
  }
  return error;
}

/** Runs `client`. */
export async function client(segmentName: string, messages: string[], options: ClientOptions): Promise<void> {
  if (options.count !== undefined && messages.length > 0) {
    throw new UsageError("Give either messages or --count, not both");
  }
  let end;
  try {
    end = connect(segmentName, { timeoutMs: 2000, wait: options.wait, trustOwner: options.trustOwner });
  } catch (error) {
    throw explainForeign(explain(error, segmentName), segmentName, await platform());
  }
  try {
    if (options.count !== undefined) {
      load(end, options);
      return;
    }
    const source = messages.length > 0 ? messages : stdinLines();
    for await (const text of source) {
      const started = performance.now();
      let response: Uint8Array;
      try {
        response = end.request(encoder.encode(text), options.timeout);
      } catch (error) {
        throw explain(error, segmentName);
      }
      const us = (performance.now() - started) * 1000;
      if (options.json) {
        console.log(jsonText({ request: text, response: decoder.decode(response), roundTripUs: us }));
      } else {
        console.log(decoder.decode(response));
      }
    }
  } finally {
    end.close();
  }
}

function load(end: ClientEnd, options: ClientOptions): void {
  const live = stderrIsTerminal() && !options.json;
  const progress = live
    ? (r: LoadMeasurement) =>
      Deno.stderr.writeSync(
        encoder.encode(
          `\r\x1b[K${r.count}/${options.count} requests  ${formatRate(r.perSecond)}  p50 ${
            formatMicros(r.latencyUs.p50)
          }`,
        ),
      )
    : undefined;
  let result: LoadMeasurement;
  try {
    const expect = options.expect === undefined ? undefined : HANDLERS[options.expect].handle;
    result = runLoad(
      end,
      { count: options.count!, size: options.size, timeoutMs: options.timeout, expect },
      progress,
    );
  } catch (error) {
    throw explain(error, end.segment.name);
  } finally {
    if (live) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
  }
  if (options.json) printJson({ runtime: "deno", pid: Deno.pid, ...result });
  else printLoad(result);
  if (result.mismatches > 0) {
    throw new CliError(
      "WrongResponse",
      `${result.mismatches} of ${result.count} responses were not what ${options.expect} returns`,
    );
  }
}

function printLoad(result: LoadMeasurement): void {
  const c = colors();
  const l = result.latencyUs;
  console.log(
    `${c.bold(String(result.count))} requests of ${result.size} B in ${
      (result.elapsedMs / 1000).toFixed(2)
    } s: ` +
      `${c.bold(formatRate(result.perSecond))}`,
  );
  console.log(
    table(
      ["", "MIN", "P50", "P90", "P99", "P99.9", "MAX"],
      [["round trip", ...[l.min, l.p50, l.p90, l.p99, l.p999, l.max].map(formatMicros)]],
      ["left", "right", "right", "right", "right", "right", "right"],
    ),
  );
}
