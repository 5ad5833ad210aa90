// `wshm demo`: a server and one client per available runtime, each a process
// of its own, exchange requests through one segment; then a summary.
//
// Cleanup is the point of this file: every client runs under a watchdog,
// the server is told our pid so that it stops if we vanish, and
// `finally` kills whatever still runs and removes the segment, whether the
// run succeeded, a child failed, or the user pressed Ctrl-C.

import { Segment } from "../ts/mod.ts";
import { colors, formatMicros, formatRate, printJson, table } from "./format.ts";
import { CliError } from "./errors.ts";
import { mainScript, root } from "./paths.ts";
import { bunCandidates, peerPermissions } from "./permissions.ts";
import { onTerminate } from "./signals.ts";

const HANDLER = "upper";

/** Options of {@linkcode demo}. */
export interface DemoOptions {
  count: number;
  size: number;
  runtimes: string[];
  json?: boolean;
}

interface Child {
  label: string;
  process: Deno.ChildProcess;
  /** Everything printed so far (complete once `done` resolves). */
  out: { stdout: string; stderr: string };
  /** Resolves when the process has exited and both pipes are drained. */
  done: Promise<Deno.CommandStatus>;
}

/** One client's outcome. */
interface ClientOutcome {
  runtime: string;
  ok: boolean;
  error?: string;
  requests?: number;
  p50Us?: number;
  p99Us?: number;
  perSecond?: number;
  mismatches?: number;
  startedEpochMs?: number;
  endedEpochMs?: number;
}

function start(label: string, command: string, args: string[]): Child {
  const process = new Deno.Command(command, {
    args,
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const out = { stdout: "", stderr: "" };
  const drain = async (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) out[key] += decoder.decode(chunk, { stream: true });
    } catch {
      // The pipe broke with the process: what we have is all there is.
    }
  };
  const pipes = Promise.all([drain(process.stdout, "stdout"), drain(process.stderr, "stderr")]);
  const done = process.status.then(async (status) => {
    await pipes;
    return status;
  });
  return { label, process, out, done };
}

function kill(child: Child, signal: Deno.Signal): void {
  try {
    child.process.kill(signal);
  } catch {
    // Exited already.
  }
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits for the server's "ready" line; throws if it exits or takes longer than `ms`. */
async function waitReady(server: Child, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!server.out.stdout.includes('"event":"ready"')) {
    const exited = await within(server.done, 20);
    if (exited !== "timeout") {
      const why = server.out.stderr.trim().split("\n").slice(-3).join(" / ");
      throw new CliError("ServerFailed", `The demo server exited (${exited.code ?? exited.signal}): ${why}`);
    }
    if (performance.now() > deadline) {
      throw new CliError("Timeout", `The demo server was not ready within ${ms} ms`);
    }
  }
}

function clientCommand(runtime: string, name: string, options: DemoOptions): Array<[string, string[]]> {
  // Short, so that clients orphaned by a killed demo give up soon after the server stops.
  const timeoutMs = "3000";
  const peerArgs = [name, String(options.count), String(options.size), timeoutMs, HANDLER];
  if (runtime === "deno") {
    return [[Deno.execPath(), [
      "run",
      "--quiet",
      ...peerPermissions(root),
      mainScript,
      "client",
      name,
      "--count",
      String(options.count),
      "--size",
      String(options.size),
      "--timeout",
      timeoutMs,
      "--expect",
      HANDLER,
      "--json",
    ]]];
  }
  // Node cannot run TypeScript: it runs the build (npm run build); Bun runs the source.
  if (runtime === "node") return [["node", [`${root}/dist/cli/peer.js`, ...peerArgs]]];
  return bunCandidates(root).map((bun) => [bun, ["run", `${root}/cli/peer.ts`, ...peerArgs]]);
}

async function available(runtime: string): Promise<string | null> {
  if (runtime !== "node") return null;
  try {
    await Deno.stat(`${root}/dist/cli/peer.js`);
    return null;
  } catch {
    return "the library is not built for Node (run `npm run build`)";
  }
}

/** Runs `demo`. */
export async function demo(options: DemoOptions): Promise<void> {
  const c = colors();
  const name = `/wshm-demo-${Deno.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const children: Child[] = [];
  let interrupted: string | undefined;
  using _signals = onTerminate((signal) => {
    interrupted ??= signal;
    for (const child of children) kill(child, "SIGTERM");
  });
  const say = (text: string) => {
    if (!options.json) console.log(text);
  };
  const outcomes: ClientOutcome[] = [];
  let serverRequests: number | undefined;
  try {
    say(`${c.bold("wshm demo")}: one server, one client per runtime, segment ${c.cyan(name)}`);
    const server = start("server", Deno.execPath(), [
      "run",
      "--quiet",
      ...peerPermissions(root),
      mainScript,
      "serve",
      name,
      "--handler",
      HANDLER,
      "--json",
      "--parent",
      String(Deno.pid),
    ]);
    children.push(server);
    await waitReady(server, 15_000);
    say(`${c.green("✓")} server ready (deno, pid ${server.process.pid}, handler ${HANDLER})`);

    const runs: Array<Promise<ClientOutcome>> = [];
    for (const runtime of options.runtimes) {
      const missing = await available(runtime);
      if (missing !== null) {
        outcomes.push({ runtime, ok: false, error: `skipped: ${missing}` });
        continue;
      }
      runs.push(runClient(runtime, name, options, children));
    }
    say(c.dim(`  ${runs.length} clients x ${options.count} requests of ${options.size} B, all at once...`));
    outcomes.push(...(await Promise.all(runs)));
    if (interrupted) throw new CliError("Interrupted", `The demo was interrupted (${interrupted})`);

    kill(server, "SIGTERM");
    const stopped = await within(server.done, 5000);
    if (stopped === "timeout") throw new CliError("ServerFailed", "The demo server did not stop within 5 s");
    for (const line of server.out.stdout.split("\n")) {
      if (line.includes('"event":"stopped"')) serverRequests = JSON.parse(line).requests;
    }
  } finally {
    for (const child of children) kill(child, "SIGKILL");
    await Promise.all(children.map((child) => within(child.done, 5000)));
    try {
      Segment.unlink(name);
    } catch {
      // Removed by the server, as it should be.
    }
  }
  report(name, outcomes, serverRequests, options);
}

async function runClient(
  runtime: string,
  name: string,
  options: DemoOptions,
  children: Child[],
): Promise<ClientOutcome> {
  const watchdogMs = 60_000 + options.count * 2;
  let lastError = "";
  for (const [command, args] of clientCommand(runtime, name, options)) {
    let child: Child;
    try {
      child = start(runtime, command, args);
    } catch (error) {
      // Not installed here (a missing binary, or one we may not run): try the next place.
      lastError = error instanceof Error ? error.message : String(error);
      continue;
    }
    children.push(child);
    const status = await within(child.done, watchdogMs);
    if (status === "timeout") {
      kill(child, "SIGKILL");
      return { runtime, ok: false, error: `no result within ${watchdogMs} ms` };
    }
    const stdout = child.out.stdout;
    if (!status.success) {
      const why = child.out.stderr.trim().split("\n").slice(-2).join(" / ");
      return { runtime, ok: false, error: `exit ${status.code ?? status.signal}: ${why}` };
    }
    try {
      // `wshm client --json` prints one indented document; peer.ts one line.
      const text = stdout.trim();
      const result = text.startsWith("{\n") ? JSON.parse(text) : JSON.parse(text.split("\n").pop()!);
      return {
        runtime,
        ok: result.mismatches === 0,
        error: result.mismatches === 0 ? undefined : `${result.mismatches} wrong responses`,
        requests: result.count,
        p50Us: result.latencyUs.p50,
        p99Us: result.latencyUs.p99,
        perSecond: result.perSecond,
        mismatches: result.mismatches,
        startedEpochMs: result.startedEpochMs,
        endedEpochMs: result.endedEpochMs,
      };
    } catch {
      return { runtime, ok: false, error: `unreadable result: ${stdout.slice(0, 200)}` };
    }
  }
  return { runtime, ok: false, error: `skipped: not available (${lastError})` };
}

function report(
  name: string,
  outcomes: ClientOutcome[],
  serverRequests: number | undefined,
  options: DemoOptions,
): void {
  const ran = outcomes.filter((o) => o.requests !== undefined);
  const total = ran.reduce((sum, o) => sum + (o.requests ?? 0), 0);
  // From the first measured request of any client to the last one of any:
  // the clients run at once but start at different times.
  const span =
    (Math.max(...ran.map((o) => o.endedEpochMs!)) - Math.min(...ran.map((o) => o.startedEpochMs!))) / 1000;
  const failed = outcomes.filter((o) => !o.ok && !o.error?.startsWith("skipped"));
  if (options.json) {
    printJson({
      segment: name,
      clients: outcomes,
      requests: total,
      serverRequests,
      seconds: span,
      perSecond: total / span,
      ok: failed.length === 0 && ran.length > 0,
    });
  } else {
    const c = colors();
    console.log(
      table(
        ["CLIENT", "REQUESTS", "P50", "P99", "THROUGHPUT", ""],
        outcomes.map((o) => [
          o.runtime,
          o.requests?.toLocaleString("en-US") ?? "-",
          o.p50Us !== undefined ? formatMicros(o.p50Us) : "-",
          o.p99Us !== undefined ? formatMicros(o.p99Us) : "-",
          o.perSecond !== undefined ? formatRate(o.perSecond) : "-",
          o.ok
            ? c.green("ok")
            : o.error?.startsWith("skipped")
            ? c.yellow(o.error)
            : c.red(o.error ?? "failed"),
        ]),
        ["left", "right", "right", "right", "right"],
      ),
    );
    const counted = serverRequests !== undefined
      ? c.dim(` (the server counted ${serverRequests.toLocaleString("en-US")}, warm-up included)`)
      : "";
    console.log(
      `${c.bold(total.toLocaleString("en-US"))} requests answered in ${span.toFixed(2)} s, ` +
        `${c.bold(formatRate(total / span))} over all clients${counted}. Segment removed.`,
    );
  }
  if (ran.length === 0) throw new CliError("DemoFailed", "No client could run");
  if (failed.length > 0) {
    throw new CliError("DemoFailed", `${failed.map((o) => o.runtime).join(", ")} failed: ${failed[0].error}`);
  }
}
