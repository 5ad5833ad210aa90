// SIGINT and SIGTERM for every long-running command, handled the same way.
//
// The convention followed is the shell's (and Node's, Deno's, Python's, npm's):
// a program interrupted by a signal cleans up, then ends *by that signal*, so
// that its parent sees it was interrupted ($? is 128 + the signal number: 130
// for Ctrl-C, 143 for SIGTERM; a shell script running it stops; systemd counts
// a SIGTERM death as a clean stop). That holds for `serve` too, whose normal
// stop is Ctrl-C: it removes its segment first, then ends by the signal.
//
// One listener per signal is installed on first use and kept until the very
// end: removing Deno's last listener restores the default action, and a
// signal arriving then (a second Ctrl-C, or one forwarded by the npm bin
// while the command is cleaning up) would kill the process halfway through
// its cleanup. With no subscriber, a signal ends the process at once.

const SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM"];
const EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

const subscribers = new Set<(signal: Deno.Signal) => void>();
const listeners = new Map<Deno.Signal, () => void>();
let cleaningUp = false;
let received: Deno.Signal | undefined;

function install(): void {
  if (listeners.size > 0) return;
  for (const signal of SIGNALS) {
    const listener = () => {
      if (subscribers.size > 0) {
        received ??= signal;
        for (const handler of [...subscribers]) handler(signal);
      } else if (!cleaningUp) {
        endBySignal(signal);
      }
    };
    listeners.set(signal, listener);
    Deno.addSignalListener(signal, listener);
  }
}

/**
 * Calls `handler` with the signal's name on SIGINT or SIGTERM until disposed.
 * While anyone is subscribed, those signals no longer end the process; the
 * first one is remembered (see {@linkcode terminatingSignal}).
 */
export function onTerminate(handler: (signal: Deno.Signal) => void): Disposable {
  install();
  subscribers.add(handler);
  return {
    [Symbol.dispose]() {
      subscribers.delete(handler);
    },
  };
}

/**
 * From now on, SIGINT and SIGTERM are ignored: the command is on its way out
 * and finishes its cleanup (the exit code says what happened).
 */
export function ignoreTerminationWhileExiting(): void {
  install();
  cleaningUp = true;
}

/** The signal that stopped a command (the first one received while subscribed), if any. */
export function terminatingSignal(): Deno.Signal | undefined {
  return received;
}

/**
 * Ends the process by `signal`, with the default action restored, as an
 * uncaught signal would. The exit code is set to 128 + the signal number as
 * well, in case the process gets to exit normally before the signal lands.
 */
export function endBySignal(signal: Deno.Signal): void {
  Deno.exitCode = EXIT_CODES[signal] ?? 1;
  for (const [name, listener] of listeners) Deno.removeSignalListener(name, listener);
  listeners.clear();
  Deno.kill(Deno.pid, signal);
  // Another thread of Deno's may take the signal a moment later: until then
  // nothing else runs, and should it never land, the exit code still says it.
  setTimeout(() => Deno.exit(EXIT_CODES[signal] ?? 1), 1000);
}
