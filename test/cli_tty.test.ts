// The wshm CLI as a person at a terminal meets it: run under a real
// pseudo-terminal (python3's pty module, so stdin, stdout and stderr are a
// tty, as in a shell or tmux) as well as piped, through the npm bin (Node,
// bin/wshm.mjs) and straight under Deno (`deno run` with the bin's
// permissions), with the variables terminals and CI set (TMUX, COLORTERM,
// NO_COLOR, FORCE_COLOR) and unset. Also: a closed stdout (`| head -1`),
// Ctrl-C on a terminal, and each on-screen message fixed for issue 11.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { permissionsFor } from "../cli/permissions.ts";
import { Segment } from "../ts/mod.ts";
import { cleanup, root, type Run, runtime, startProcess, uniqueName, within } from "./helpers.ts";

const test = suite(`cli on a terminal (${runtime})`);
test.after.each(cleanup);

const node = runtime === "node" ? process.execPath : "node";
const deno = join(root, "node_modules", ".bin", "deno");
const bin = join(root, "bin", "wshm.mjs");

/** Every variable this suite turns on and off, with the value a terminal or CI would give it. */
const TERMINAL_ENV: Record<string, string> = {
  TMUX: "/tmp/tmux-1000/default,1234,0",
  COLORTERM: "truecolor",
  NO_COLOR: "1",
  FORCE_COLOR: "1",
};

/** The environment of a run: this process's, minus every TERMINAL_ENV variable, plus `set`. */
function environment(set: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    // CI (set by CI systems, and by .ci/run) turns colour on even when piped (picocolors): a user's
    // terminal has no CI, so these runs drop it as they drop the terminal variables under test.
    if (value !== undefined && !(key in TERMINAL_ENV) && key !== "CI") env[key] = value;
  }
  return { ...env, TERM: "xterm-256color", ...set };
}

// Runs argv on a new pseudo-terminal (its stdin, stdout and stderr), 100x40,
// collecting everything written to it; with `interruptAfter`, types Ctrl-C
// once that text has appeared. Prints one JSON line: output, exit code or
// signal number. A watchdog kills the process group after timeoutMs.
const PTY_RUNNER = String.raw`
import json, os, pty, select, signal, struct, sys, time, fcntl, termios
spec = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(spec["argv"][0], spec["argv"], spec["env"])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
out = b""
deadline = time.time() + spec["timeoutMs"] / 1000
typed = False
killed = False
status = None
while status is None:
    if time.time() > deadline and not killed:
        os.killpg(pid, signal.SIGKILL)
        killed = True
    ready, _, _ = select.select([fd], [], [], 0.05)
    if ready:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            chunk = b""
        out += chunk
    after = spec.get("interruptAfter")
    if after and not typed and after.encode() in out:
        time.sleep(0.3)
        os.write(fd, b"\x03")
        typed = True
    done, raw = os.waitpid(pid, os.WNOHANG)
    if done == pid:
        status = raw
while True:
    try:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready: break
        chunk = os.read(fd, 65536)
        if not chunk: break
        out += chunk
    except OSError:
        break
print(json.dumps({
    "output": out.decode("utf-8", "replace"),
    "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
    "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
    "timedOut": killed,
}))
`;

interface TerminalRun {
  output: string;
  code: number | null;
  signal: number | null;
  timedOut: boolean;
}

/** Runs `argv` on a pseudo-terminal (see PTY_RUNNER), bounded by `timeoutMs`. */
async function onTerminal(
  argv: string[],
  options: { env?: Record<string, string>; interruptAfter?: string; timeoutMs?: number } = {},
): Promise<TerminalRun> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const spec = {
    argv,
    env: environment(options.env ?? {}),
    interruptAfter: options.interruptAfter,
    timeoutMs,
  };
  const child = startProcess("python3", ["-c", PTY_RUNNER, JSON.stringify(spec)], {
    label: `pty ${argv.join(" ")}`,
    input: "",
    timeoutMs: timeoutMs + 10_000,
  });
  const run = await within(child.done, timeoutMs + 15_000, `pty ${argv.join(" ")}`);
  assert.is(run.code, 0, `the pty runner failed: ${run.stderr}`);
  const result = JSON.parse(run.stdout) as TerminalRun;
  assert.not.ok(result.timedOut, `${argv.join(" ")} did not end within ${timeoutMs} ms:\n${result.output}`);
  return result;
}

/**
 * Runs a command with pipes for stdin, stdout and stderr (no terminal
 * anywhere) in exactly the environment `env` (startProcess would add this
 * process's, where the test runner sets NO_COLOR and FORCE_COLOR).
 */
function piped(command: string, argv: string[], env: Record<string, string>): Promise<Run> {
  const label = `${command} ${argv.join(" ")}`;
  const child = spawn(command, argv, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const watchdog = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const done = new Promise<Run>((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(watchdog);
      resolve({ code, signal, stdout, stderr });
    })
  );
  return within(done, 65_000, label);
}

/** `wshm` through the npm bin (Node). */
const viaBin = (args: string[]) => [node, bin, ...args];
/** `wshm` straight under Deno, with the permissions the bin would grant. */
const viaDeno = (args: string[]) => [
  deno,
  "run",
  "--quiet",
  "--no-prompt",
  ...permissionsFor(args.find((a) => !a.startsWith("-")), root, deno),
  join(root, "cli", "main.ts"),
  ...args,
];

const COMMANDS = ["serve", "client", "demo", "ls", "inspect", "rm", "gc", "bench"];
/** Every way to ask for help: bare, `help`, `--help`, `help CMD` and each command's `--help`. */
const HELP_INVOCATIONS: string[][] = [
  [],
  ["help"],
  ["--help"],
  ["help", "serve"],
  ...COMMANDS.map((command) => [command, "--help"]),
];

/** Up to `limit` promises at a time (two cores are shared with other engineers). */
async function inBatches<T, R>(items: T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += limit) {
    results.push(...(await Promise.all(items.slice(i, i + limit).map(run))));
  }
  return results;
}

function checkHelp(args: string[], output: string, code: number | null, where: string): void {
  const what = `wshm ${args.join(" ")} ${where}`;
  assert.not.match(output, /PermissionDenied|NotCapable|Requires env access/, `${what}: ${output}`);
  // The CLI's error line ("error [Code] ...") or an uncaught one ("error: Uncaught ...", a stack).
  assert.not.match(output, /error \[|error: |Error:|^\s+at /im, `${what} prints no error:\n${output}`);
  const command = args.find((a) => COMMANDS.includes(a));
  assert.match(output, new RegExp(`Usage: wshm${command ? ` ${command}` : ""} `), `${what} shows the usage`);
  // A bare `wshm` shows the help as a usage error (exit 2); every other form exits 0.
  assert.is(code, args.length === 0 ? 2 : 0, `${what}: exit code ${code}:\n${output}`);
}

const ENV_CASES: Array<[string, Record<string, string>]> = [
  ["no terminal variables", {}],
  ["all of TMUX, COLORTERM, NO_COLOR, FORCE_COLOR", TERMINAL_ENV],
  ...Object.entries(TERMINAL_ENV).map(([key, value]): [string, Record<string, string>] => [
    `only ${key}`,
    { [key]: value },
  ]),
];

// The help matrix does not depend on the runtime of this suite (the CLI is
// always Deno, started by Node's bin or by Deno): it runs once, under Node,
// as scripts/test.mjs runs runtime-independent suites once (~80 s on a loaded
// machine). Under Deno and Bun the other tests of this file run.
const matrix = runtime === "node" ? test : test.skip;

matrix(
  "every help, through the bin, on a terminal: no permission error, whatever the terminal variables",
  async () => {
    // Each command's help with all variables set and with none; the bare and
    // top-level forms with each variable alone too.
    const cases: Array<[string[], string, Record<string, string>]> = [];
    for (const args of HELP_INVOCATIONS) {
      for (const [label, env] of ENV_CASES) {
        if (args.length > 1 && args[0] !== "help" && !label.startsWith("all") && !label.startsWith("no ")) {
          continue;
        }
        cases.push([args, label, env]);
      }
    }
    await inBatches(cases, 4, async ([args, label, env]) => {
      const run = await onTerminal(viaBin(args), { env });
      checkHelp(args, run.output, run.code, `on a terminal with ${label}`);
    });
  },
);

matrix("every help, straight under Deno, on a terminal with TMUX and COLORTERM set", async () => {
  await inBatches(HELP_INVOCATIONS, 4, async (args) => {
    const run = await onTerminal(viaDeno(args), { env: { TMUX: TERMINAL_ENV.TMUX, COLORTERM: "truecolor" } });
    checkHelp(args, run.output, run.code, "under deno run on a terminal");
  });
});

matrix("every help, piped, with the terminal variables set and unset", async () => {
  const cases = HELP_INVOCATIONS.flatMap((args) => [
    [args, {}] as const,
    [args, TERMINAL_ENV] as const,
  ]);
  await inBatches(cases, 4, async ([args, env]) => {
    const run = await piped(node, [bin, ...args], environment(env));
    // Help goes to stdout; a bare `wshm` writes it to stderr (a usage error).
    checkHelp(args, run.stdout + run.stderr, run.code, `piped with ${Object.keys(env).join(",") || "none"}`);
  });
});

const ESC = "\u001b[";

test("colour: on at a terminal unless NO_COLOR, off when piped unless FORCE_COLOR", async () => {
  // `gc` of a name that is not there prints a dimmed line: a colour probe
  // that changes nothing.
  const name = uniqueName("cli-tty-colour");
  const args = ["gc", "--dry-run", name];
  const terminal = await onTerminal(viaBin(args));
  assert.ok(terminal.output.includes(ESC), `colour at a terminal:\n${terminal.output}`);
  const terminalNoColor = await onTerminal(viaBin(args), { env: { NO_COLOR: "1" } });
  assert.not.ok(terminalNoColor.output.includes(ESC), "NO_COLOR at a terminal: no colour");
  const terminalTmux = await onTerminal(viaBin(args), {
    env: { TMUX: TERMINAL_ENV.TMUX, COLORTERM: "truecolor" },
  });
  assert.is(terminalTmux.code, 0, terminalTmux.output);
  assert.ok(terminalTmux.output.includes(ESC), "colour inside tmux");
  const pipedPlain = await piped(node, [bin, ...args], environment({}));
  assert.not.ok(pipedPlain.stdout.includes(ESC), "piped: no colour");
  const pipedForced = await piped(node, [bin, ...args], environment({ FORCE_COLOR: "1" }));
  assert.ok(pipedForced.stdout.includes(ESC), "piped with FORCE_COLOR: colour");
  const noColorFlag = await onTerminal(viaBin([...args, "--no-color"]));
  assert.not.ok(noColorFlag.output.includes(ESC), "--no-color at a terminal: no colour");
});

test("a closed stdout (`| head -1`, `| true`) ends the command quietly with exit 0", async () => {
  // `true` exits before the CLI has started, so its first write meets a
  // closed pipe (EPIPE) every time; `head -1` is the case users type.
  for (const reader of ["head -1", "true"]) {
    for (const [how, argv] of [["bin", viaBin(["--help"])], ["deno", viaDeno(["--help"])]] as const) {
      const line = `set -o pipefail; ${argv.map((a) => `'${a}'`).join(" ")} | ${reader}`;
      const run = await piped("bash", ["-c", line], environment({}));
      assert.is(run.code, 0, `--help (${how}) | ${reader}: exit ${run.code}, stderr:\n${run.stderr}`);
      assert.is(run.stderr, "", `--help (${how}) | ${reader} prints nothing on stderr`);
      if (reader === "head -1") assert.is(run.stdout, "Usage: wshm [options] [command]\n");
    }
  }
  // And on a terminal, where stderr is the terminal the stack trace would land on.
  const line = `set -o pipefail; '${node}' '${bin}' --help | true`;
  const terminal = await onTerminal(["bash", "-c", line]);
  assert.is(terminal.code, 0, terminal.output);
  assert.not.match(terminal.output, /EPIPE|BrokenPipe|error/i, terminal.output);
});

test("Ctrl-C at a terminal: serve removes its segment, then ends by SIGINT (130 in the shell, a script stops)", async () => {
  for (const [how, argv] of [["bin", viaBin], ["deno", viaDeno]] as const) {
    const name = uniqueName("cli-tty-serve");
    const run = await onTerminal(argv(["serve", name]), {
      interruptAfter: "Ctrl-C to stop",
      timeoutMs: 60_000,
    });
    assert.match(run.output, /segment removed/, `${how}: serve says it removed the segment:\n${run.output}`);
    assert.is(
      run.signal,
      2,
      `${how}: serve ended by SIGINT (code ${run.code}, signal ${run.signal}):\n${run.output}`,
    );
    assert.not.ok(existsSync(`/dev/shm${name}`), `${how}: the segment is gone`);
    // What a shell script makes of it: it stops too (bash waits for the
    // command, sees it died of SIGINT and ends the same way), where an exit 0
    // would have let it run on to the next line.
    const script = `${argv(["serve", name]).map((a) => `'${a}'`).join(" ")}; echo "went on after exit $?"`;
    const shell = await onTerminal(["bash", "-c", script], { interruptAfter: "Ctrl-C to stop" });
    assert.match(shell.output, /segment removed/, `${how}: serve cleaned up under bash:\n${shell.output}`);
    assert.not.match(shell.output, /went on after/, `${how}: the script stopped:\n${shell.output}`);
    assert.is(shell.signal, 2, `${how}: bash ended by SIGINT too (code ${shell.code})`);
    assert.not.ok(existsSync(`/dev/shm${name}`), `${how}: the segment is gone again`);
  }
});

test("segment names follow the library's rule; a bad one is a usage error (exit 2), before anything runs", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["serve", "bad/name"], /Invalid segment name "bad\/name": it must start with "\/"/],
    [["serve", "jobs"], /Invalid segment name "jobs": it must start with "\/" \(try "\/jobs"\)/],
    [["serve", "/a/b"], /may not contain "\/" after the first character/],
    [["client", "jobs", "hi"], /try "\/jobs"/],
    [["inspect", "/"], /needs at least one character/],
    [["rm", "/ok", "no-slash"], /Invalid segment name "no-slash"/],
    [["gc", "x/y"], /Invalid segment name "x\/y"/],
  ];
  await inBatches(cases, 4, async ([args, message]) => {
    const run = await piped(node, [bin, ...args], environment({ NO_COLOR: "1" }));
    assert.is(run.code, 2, `wshm ${args.join(" ")}: exit ${run.code}\n${run.stderr}`);
    assert.match(run.stderr, /^error \[Usage\] /, `wshm ${args.join(" ")} is a usage error`);
    assert.match(run.stderr, message);
  });
  // The library says the same of the same names.
  for (const bad of ["jobs", "bad/name", "/a/b", "/"]) {
    try {
      Segment.open(bad);
      assert.unreachable(`Segment.open(${bad}) throws`);
    } catch (error) {
      assert.is((error as { code?: string }).code, "InvalidName", `Segment.open(${JSON.stringify(bad)})`);
    }
  }
});

test.run();
