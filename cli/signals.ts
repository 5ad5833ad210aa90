// SIGINT and SIGTERM for every long-running command, handled the same way.
//
// One listener per signal is installed on first use and never removed:
// removing Deno's last listener restores the default action, and a signal
// arriving just then (a second Ctrl-C, or one forwarded by the npm bin while
// the command is cleaning up) would kill the process halfway through its
// cleanup. With no subscriber, a signal ends the process the usual way
// (exit 128 + signal number).

const SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM"];
const EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

const subscribers = new Set<(signal: Deno.Signal) => void>();
let installed = false;
let cleaningUp = false;

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of SIGNALS) {
    Deno.addSignalListener(signal, () => {
      if (subscribers.size > 0) {
        for (const handler of [...subscribers]) handler(signal);
      } else if (!cleaningUp) {
        Deno.exit(EXIT_CODES[signal]);
      }
    });
  }
}

/**
 * Calls `handler` with the signal's name on SIGINT or SIGTERM until disposed.
 * While anyone is subscribed, those signals no longer end the process.
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
