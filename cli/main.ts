/**
 * The `wshm` command: serve, client, pub, sub, demo, ls, inspect, rm, gc, bench.
 * Run with the permissions listed in docs/cli.md:
 *
 * ```sh
 * deno task wshm ls          # or: npx wshm ls
 * ```
 *
 * Exit codes: 0 success, 1 failure (the error's code is shown), 2 bad arguments.
 *
 * @module
 */

import { Argument, Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { WshmError } from "../ts/mod.ts";
import { checkSegmentName } from "../ts/names.ts";
import {
  colorsEnabled,
  disableColors,
  parseMode,
  parseSize,
  StdoutClosed,
  writeErr,
  writeOut,
} from "./format.ts";
import { EXIT_OK, EXIT_USAGE, exitCodeOf, reportError, UsageError } from "./errors.ts";
import { ls } from "./ls.ts";
import { inspect } from "./inspect.ts";
import { gc, rm } from "./remove.ts";
import { HANDLERS } from "./handlers.ts";
import { endBySignal, ignoreTerminationWhileExiting, terminatingSignal } from "./signals.ts";

const VERSION = "0.1.0";

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

function bytes(min: number, max: number) {
  return (text: string): number => {
    const n = parseSize(text);
    if (n === null || n < min || n > max) {
      throw new InvalidArgumentError(`expected a size from ${min} to ${max} bytes (e.g. 4096, 64k, 1M)`);
    }
    return n;
  };
}

function mode(text: string): number {
  const n = parseMode(text);
  if (n === null) throw new InvalidArgumentError("expected octal permission bits such as 600 or 0o640");
  return n;
}

/** A uid or gid given as digits becomes a number; a name stays a string (the library looks it up). */
function userOrGroup(text: string): number | string {
  const t = text.trim();
  if (t === "") throw new InvalidArgumentError("expected a user or group name, or a number");
  return /^\d+$/.test(t) ? Number(t) : t;
}

/**
 * A segment name, checked by the library's own rule ("/" then 1 to 255
 * bytes, no other "/"), so that a name the CLI takes is one the library
 * takes: a bad one is a usage error (exit 2), before anything runs.
 */
function segmentName(text: string): string {
  try {
    checkSegmentName(text);
  } catch (error) {
    if (error instanceof WshmError) {
      const hint = !text.startsWith("/") && text !== "" && !text.includes("/") ? ` (try "/${text}")` : "";
      throw new InvalidArgumentError(`${error.message}${hint}`);
    }
    throw error;
  }
  return text;
}

/** The same for each name of a variadic argument. */
function segmentNames(text: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), segmentName(text)];
}

const nameArgument = (spec: "<name>") =>
  new Argument(spec, 'segment name, such as "/jobs"').argParser(segmentName);
const namesArgument = (spec: "<name...>" | "[name...]", description: string) =>
  new Argument(spec, description).argParser(segmentNames);

const trustOwner = () =>
  new Option(
    "--trust-owner <uid|name|any>",
    "also open the segment if this user owns it (default: only your own segments)",
  ).argParser(userOrGroup);

function runtimes(text: string): string[] {
  const list = text.split(",").map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((r) => !["deno", "node", "bun"].includes(r));
  if (list.length === 0 || bad.length > 0) {
    throw new InvalidArgumentError(`expected a comma-separated list of deno, node, bun`);
  }
  return list;
}

const json = () => new Option("--json", "print machine-readable JSON instead of text");
const wait = () =>
  new Option("--wait <mode>", "how to wait: spin then sleep, spin only, or sleep at once")
    .choices(["adaptive", "spin", "park"]).default("adaptive");

/** Builds the command tree; `run` receives each command's action. */
export function buildProgram(): Command {
  const program = new Command("wshm")
    .description(
      "Shared-memory IPC on the command line: serve and call channels, inspect and clean segments.",
    )
    .version(VERSION, "-V, --version")
    .option("--no-color", "no colours (also: NO_COLOR=1)")
    .exitOverride()
    .configureOutput({
      // Errors are reported by main() with their code; help and version go
      // through writes that turn a closed pipe into StdoutClosed rather than
      // an EPIPE stack trace, and colour is decided once (format.ts), never
      // by Node's hasColors() (which needs env permissions Deno lacks).
      outputError: () => {},
      writeOut,
      writeErr,
      getOutHasColors: colorsEnabled,
      getErrHasColors: colorsEnabled,
    })
    .showSuggestionAfterError(true)
    .addHelpText(
      "after",
      "\nExit codes: 0 success, 1 failure (the error's code is shown), 2 bad arguments.\n" +
        "Docs: docs/cli.md",
    );

  program
    .command("serve")
    .summary("serve requests on a channel until Ctrl-C")
    .description(
      "Creates segment NAME with a request/response channel and answers requests with a handler until " +
        "SIGINT or SIGTERM, then removes the segment. Shows a live status line on a terminal.",
    )
    .addArgument(nameArgument("<name>"))
    .addOption(
      new Option("--size <bytes>", "segment size").argParser(bytes(65536, 1 << 30)).default(1 << 20, "1M"),
    )
    .addOption(
      new Option("--mode <octal>", "permission bits of the segment").argParser(mode).default(0o600, "600"),
    )
    .addOption(
      new Option("--group <gid|name>", "give the segment to this group (with --mode 660: its users may call)")
        .argParser(userOrGroup),
    )
    .addOption(
      new Option("--handler <name>", "what the server does with a request").choices(Object.keys(HANDLERS))
        .default("echo"),
    )
    .addOption(
      new Option("--message-size <bytes>", "largest request or response").argParser(bytes(1, 16 << 20))
        .default(64 * 1024, "64k"),
    )
    .option(
      "--clients <n>",
      "0: the classic exchange (one request at a time); N: many-client mode",
      integer(0, 1024),
      0,
    )
    .addOption(wait())
    .option("--quiet", "no status line")
    .addOption(json())
    .addOption(new Option("--parent <pid>", "stop when this process exits").argParser(integer(1)).hideHelp())
    .action(async (name, options) => (await import("./serve.ts")).serve(name, options));

  program
    .command("client")
    .summary("send requests to a server and print the responses")
    .description(
      "Sends each MESSAGE (or, with none, each line of stdin) to the server of segment NAME and prints " +
        "each response. With --count, sends that many requests of --size bytes and reports latency " +
        "percentiles and throughput instead.",
    )
    .addArgument(nameArgument("<name>"))
    .argument("[message...]", "messages to send")
    .option("--count <n>", "load mode: number of requests", integer(1))
    .option("--size <bytes>", "load mode: request size", bytes(0, 16 << 20), 64)
    .option("--timeout <ms>", "give up on one request after this long", integer(1), 10_000)
    .addOption(wait())
    .addOption(
      new Option("--expect <handler>", "load mode: check each response against what this handler returns")
        .choices(Object.keys(HANDLERS)),
    )
    .addOption(trustOwner())
    .addOption(json())
    .action(async (name, messages, options) => (await import("./client.ts")).client(name, messages, options));

  program
    .command("pub")
    .summary("publish messages to a topic (creating it if needed)")
    .description(
      "Publishes each MESSAGE (or, with none, each line of stdin) to topic TOPIC of segment NAME, creating " +
        "the segment and the topic if they do not exist. The segment stays when pub exits (late subscribers " +
        "get the history); `wshm gc` removes it once nobody maps it, or pass --remove.",
    )
    .addArgument(nameArgument("<name>"))
    .argument("<topic>", "topic name")
    .argument("[message...]", "messages to publish")
    .addOption(
      new Option("--size <bytes>", "segment size if created").argParser(bytes(65536, 1 << 30)).default(
        4 << 20,
        "4M",
      ),
    )
    .addOption(
      new Option("--max-message <bytes>", "longest message, if created").argParser(bytes(1, 1 << 20)).default(
        4096,
        "4k",
      ),
    )
    .option("--depth <n>", "messages the topic holds, a power of two, if created", integer(2, 65536), 64)
    .option("--subscribers <n>", "subscribers at once, if created", integer(1, 64), 16)
    .option("--history <n>", "messages a late subscriber gets, if created", integer(0, 65536), 16)
    .addOption(
      new Option(
        "--policy <policy>",
        "slow subscribers: wait for them, or overwrite and count what they miss",
      )
        .choices(["block", "overwrite"]).default("block"),
    )
    .option("--type <n>", "message type", integer(0, 0x7FFFFFFF), 0)
    .option("--timeout <ms>", "give up on one message after this long (block policy)", integer(0), 10_000)
    .option("--remove", "remove the segment when pub exits, if pub created it")
    .addOption(json())
    .action(async (name, topic, messages, options) =>
      (await import("./pubsub.ts")).pub(name, topic, messages, options)
    );

  program
    .command("sub")
    .summary("print the messages of a topic as they arrive")
    .description(
      "Waits for topic TOPIC of segment NAME to appear, subscribes, and prints each message as a line " +
        "(with --json: {seq, type, skipped, text | base64}) until --count messages, or Ctrl-C.",
    )
    .addArgument(nameArgument("<name>"))
    .argument("<topic>", "topic name")
    .option("--count <n>", "exit after this many messages", integer(1))
    .option("--timeout <ms>", "give up if the topic does not appear within this long", integer(0))
    .addOption(json())
    .action(async (name, topic, options) => (await import("./pubsub.ts")).sub(name, topic, options));

  program
    .command("bridge")
    .summary("make channels, topics and queues reachable from other hosts through NATS")
    .description(
      "Bridges segment NAME through a NATS server: each --export NAME (a channel, topic or queue here) " +
        "becomes reachable from bridges on other hosts, each --import NAME appears here under that name, " +
        "served by a bridge elsewhere. Nothing is exported unless named. One bridge per segment; it runs " +
        "until Ctrl-C or SIGTERM. Credentials also come from WSHM_NATS_TOKEN and WSHM_NATS_PASSWORD. " +
        "See docs/bridge.md for the guarantees.",
    )
    .addArgument(nameArgument("<name>"))
    .addOption(
      new Option("--nats <url...>", "NATS server URL(s), e.g. nats://127.0.0.1:4222").makeOptionMandatory(),
    )
    .option("--export <name...>", "local object(s) to make reachable")
    .option("--import <name...>", "remote object(s) to make appear here")
    .option("--prefix <prefix>", "subject prefix; bridges see each other only under the same one", "wshm")
    .option("--token <token>", "NATS token (or WSHM_NATS_TOKEN)")
    .option("--user <user>", "NATS user")
    .option("--password <password>", "NATS password (or WSHM_NATS_PASSWORD)")
    .option("--tls-ca <file>", "CA certificate that signed the server's (TLS)")
    .option("--tls-cert <file>", "client certificate (TLS)")
    .option("--tls-key <file>", "client key (TLS)")
    .option(
      "--request-timeout <ms>",
      "longest a relayed channel call waits for the far side",
      integer(1, 3_600_000),
      10_000,
    )
    .addOption(
      new Option("--size <bytes>", "segment size if created").argParser(bytes(65536, 1 << 30)).default(
        4 << 20,
        "4M",
      ),
    )
    .option("--remove", "remove the segment when the bridge exits, if the bridge created it")
    .addOption(json())
    .action(async (name, options) => (await import("./bridge.ts")).bridge(name, options));

  program
    .command("demo")
    .summary("a server and one client per runtime (Deno, Node, Bun) exchange requests")
    .description(
      "Starts a server and one client per available runtime as separate processes, runs the request/" +
        "response exchange, prints a summary (requests, p50/p99 round trip, throughput) and cleans up.",
    )
    .option("--count <n>", "requests per client", integer(1, 10_000_000), 20_000)
    .option("--size <bytes>", "request size", bytes(0, 1 << 20), 64)
    .option("--runtimes <list>", "client runtimes to try", runtimes, ["deno", "node", "bun"])
    .addOption(json())
    .action(async (options) => (await import("./demo.ts")).demo(options));

  program
    .command("ls")
    .summary("list wshm segments in /dev/shm")
    .description(
      "Lists the wshm segments in /dev/shm (recognised by their header) with size, owner, mode, age and " +
        "whether their peers (creator, mapping processes, lock holders) are alive. With --objects, lists " +
        "every object (service) of every segment instead, with its kind and parties (ring producer and " +
        "consumer, topic publisher and subscribers, channel server, mutex holder) alive or dead.",
    )
    .option("--objects", "list the objects (services) of every segment instead")
    .addOption(json())
    .action((options) => ls(options));

  program
    .command("inspect")
    .summary("show a segment's header, objects, lock holders and queue depths")
    .addArgument(nameArgument("<name>"))
    .option("-w, --watch", "refresh in place until Ctrl-C")
    .option("--interval <ms>", "refresh period with --watch", integer(50, 3_600_000), 1000)
    .option("--frames <n>", "with --watch: stop after N refreshes", integer(1))
    .addOption(trustOwner())
    .addOption(json())
    .action((name, options) => inspect(name, options));

  program
    .command("rm")
    .summary("remove segments (refuses one in use unless --force)")
    .addArgument(namesArgument("<name...>", "segment names"))
    .option("-f, --force", "remove even if in use, or not a wshm segment")
    .addOption(json())
    .action((names, options) => rm(names, options));

  program
    .command("gc")
    .summary("remove every segment whose peers are all dead")
    .description(
      "Removes every wshm segment in /dev/shm whose peers (creator, mapping processes, lock holders, " +
        "channel parties) are all dead. Keeps any segment with a live or uncheckable peer, and corrupt ones. " +
        "With NAMEs, considers only those segments.",
    )
    .addArgument(namesArgument("[name...]", "only consider these segments"))
    .option("-n, --dry-run", "only say what would be removed")
    .addOption(json())
    .action((names, options) => gc(names, options));

  program
    .command("bench")
    .summary("run the benchmarks in bench/ and chart the results")
    .description(
      "Runs every benchmark script in bench/ (the contract is in docs/cli.md) with a progress bar, " +
        "prints a table with ratios against the baselines, and writes JSON and an SVG chart of latency " +
        "percentiles to bench/results/.",
    )
    .option("--quick", "short runs (passes --quick to each script)")
    .option("--filter <text>", "only scripts whose name contains text")
    .option("--runtimes <list>", "runtimes to run each script under", runtimes, ["deno"])
    .option("--timeout <s>", "give up on one script after this long", integer(1), 600)
    .addOption(json())
    .action(async (options) => (await import("./bench.ts")).bench(options));

  return program;
}

/** Runs the CLI with `args`; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  const wantsJson = args.includes("--json");
  if (wantsJson || args.includes("--no-color")) disableColors();
  const program = buildProgram();
  try {
    await program.parseAsync(args, { from: "user" });
    return EXIT_OK;
  } catch (error) {
    // `wshm ... | head -1`: the reader has what it wanted; like console.log
    // (which Deno lets write into a closed pipe silently), that is no failure.
    if (error instanceof StdoutClosed) return EXIT_OK;
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return EXIT_OK;
      // A bare `wshm` prints help to stderr and counts as bad usage; `wshm help` asked for it.
      if (error.code === "commander.help") {
        return args.find((a) => !a.startsWith("-")) === "help" ? EXIT_OK : EXIT_USAGE;
      }
      // A segment name's message is complete on its own ("Invalid segment name ...").
      const message = error.message.replace(/^error: /, "")
        .replace(/^command-argument value '.*' is invalid for argument '[^']+'\. (?=Invalid )/s, "");
      reportError(new UsageError(message), wantsJson);
      return EXIT_USAGE;
    }
    reportError(error, wantsJson);
    return exitCodeOf(error);
  } finally {
    ignoreTerminationWhileExiting();
  }
}

if (import.meta.main) {
  const code = await main(Deno.args);
  // Interrupted, and cleaned up: end by the signal, as the shell expects (signals.ts).
  const signal = terminatingSignal();
  if (signal !== undefined) endBySignal(signal);
  Deno.exitCode = code;
}
