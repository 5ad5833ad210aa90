// `wshm pub SEGMENT TOPIC [message...]` and `wshm sub SEGMENT TOPIC`: the
// publish/subscribe topic on the command line.
//
// Lifecycle: `pub` creates the segment (and the topic) if they do not exist
// and leaves them when it exits, so that a subscriber that joins later still
// finds the topic and its history; `wshm gc` removes the segment once no
// process maps it, `wshm rm` at once, and `pub --remove` when pub exits (if
// pub created it). `sub` waits for the topic to appear, then prints each
// message as it arrives until --count messages, or SIGINT/SIGTERM (exit 0:
// it detaches first, so no back-pressure is left behind).

import { type Topic, WshmError } from "../ts/mod.ts";
import { Segment } from "../ts/mod.ts";
import { platform } from "../ts/platform/mod.ts";
import { onTerminate } from "./signals.ts";
import { CliError, UsageError } from "./errors.ts";
import { writeOut } from "./format.ts";

export interface PubOptions {
  size: number;
  maxMessage: number;
  depth: number;
  subscribers: number;
  history: number;
  policy: "block" | "overwrite";
  type: number;
  timeout: number;
  remove?: boolean;
  json?: boolean;
}

export interface SubOptions {
  count?: number;
  timeout?: number;
  json?: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function openOrCreate(segmentName: string, size: number): { segment: Segment; created: boolean } {
  try {
    return { segment: Segment.open(segmentName), created: false };
  } catch (error) {
    if (!(error instanceof WshmError) || error.code !== "NotFound") throw error;
  }
  try {
    return { segment: Segment.create(segmentName, { size }), created: true };
  } catch (error) {
    // Created by another process between the two calls.
    if (error instanceof WshmError && error.code === "Exists") {
      return { segment: Segment.open(segmentName), created: false };
    }
    throw error;
  }
}

async function* stdinLines(): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of Deno.stdin.readable) {
    pending += new TextDecoder().decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) yield line;
  }
  if (pending !== "") yield pending;
}

/** Publishes each message (or each stdin line); prints how many. */
export async function pub(
  name: string,
  topicName: string,
  messages: string[],
  options: PubOptions,
): Promise<void> {
  await platform();
  const segmentName = name; // checked by the argument parser (cli/main.ts)
  const { segment, created } = openOrCreate(segmentName, options.size);
  let published = 0;
  let interrupted = false;
  using _signals = onTerminate(() => (interrupted = true));
  try {
    let topic: Topic;
    try {
      topic = segment.topic(topicName, {
        maxMessage: options.maxMessage,
        depth: options.depth,
        subscribers: options.subscribers,
        history: options.history,
        policy: options.policy,
      });
    } catch (error) {
      if (error instanceof RangeError) throw new UsageError(error.message);
      throw error;
    }
    topic.attachPublisher();
    const send = (text: string) => {
      const bytes = encoder.encode(text);
      if (bytes.length > topic.maxMessage) {
        throw new CliError(
          "TooLarge",
          `message ${
            published + 1
          } has ${bytes.length} bytes; topic "${topicName}" carries at most ${topic.maxMessage}`,
        );
      }
      topic.publish(bytes, { type: options.type, timeoutMs: options.timeout });
      published++;
    };
    if (messages.length > 0) {
      for (const m of messages) send(m);
    } else {
      for await (const line of stdinLines()) {
        if (interrupted) break;
        send(line);
      }
    }
    topic.detachPublisher();
  } finally {
    if (created && options.remove) segment.unlink();
    segment.close();
  }
  if (options.json) {
    writeOut(JSON.stringify({ segment: segmentName, topic: topicName, published, created }) + "\n");
  } else if (Deno.stderr.isTerminal()) {
    console.error(`published ${published} message${published === 1 ? "" : "s"}`);
  }
}

/** How often sub looks for a segment or topic that is not there yet. */
const APPEAR_POLL_MS = 20;

/**
 * Waits until segment `segmentName` exists and holds topic `topicName`, by
 * opening it (shm_open needs no read access to /dev/shm, so sub runs with the
 * narrow permissions). Null if interrupted.
 */
async function appear(
  segmentName: string,
  topicName: string,
  timeoutMs: number | undefined,
  signal: AbortSignal,
): Promise<Segment | null> {
  const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
  while (!signal.aborted) {
    let segment: Segment | undefined;
    try {
      segment = Segment.open(segmentName);
      const found = segment.objects().find((o) => o.name === topicName);
      if (found !== undefined && found.kind !== "topic") {
        throw new CliError(
          "KindMismatch",
          `"${topicName}" in segment ${segmentName} is a ${found.kind}, not a topic`,
        );
      }
      if (found !== undefined) return segment;
    } catch (error) {
      if (!(error instanceof WshmError) || (error.code !== "NotFound" && error.code !== "Timeout")) {
        segment?.close();
        throw error;
      }
    }
    segment?.close();
    if (performance.now() >= deadline) {
      throw new CliError(
        "Timeout",
        `topic "${topicName}" did not appear in segment ${segmentName} within ${timeoutMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, APPEAR_POLL_MS));
  }
  return null;
}

/** Prints messages of the topic as they arrive. */
export async function sub(name: string, topicName: string, options: SubOptions): Promise<void> {
  await platform();
  const segmentName = name; // checked by the argument parser (cli/main.ts)
  const stop = new AbortController();
  using _signals = onTerminate(() => stop.abort(new CliError("Interrupted", "interrupted")));
  const segment = await appear(segmentName, topicName, options.timeout, stop.signal);
  if (segment === null) return;
  try {
    const topic = segment.topic(topicName, { create: false });
    using subscriber = topic.subscribe();
    let received = 0;
    let missed = 0;
    while (options.count === undefined || received < options.count) {
      let message;
      try {
        message = await subscriber.readAsync({ signal: stop.signal });
      } catch (error) {
        if (stop.signal.aborted) break;
        // The publisher died: the topic stays, and the next publisher carries on.
        if (error instanceof WshmError && error.code === "PeerDied") continue;
        throw error;
      }
      const bytes = message.copy();
      const { seq, type, skipped } = message;
      if (!subscriber.release()) continue; // overwritten while we held it: counted in missed
      received++;
      missed = subscriber.missed;
      if (options.json) {
        let text: string | undefined;
        try {
          text = decoder.decode(bytes);
        } catch {
          text = undefined;
        }
        const row = text === undefined
          ? { seq, type, skipped, base64: btoa(String.fromCharCode(...bytes)) }
          : { seq, type, skipped, text };
        writeOut(JSON.stringify(row) + "\n");
      } else {
        if (skipped > 0) console.error(`(${skipped} message${skipped === 1 ? "" : "s"} missed)`);
        writeOut(new TextDecoder().decode(bytes) + "\n");
      }
    }
    if (!options.json && missed > 0 && Deno.stderr.isTerminal()) console.error(`${missed} missed in all`);
  } finally {
    segment.close();
  }
}
