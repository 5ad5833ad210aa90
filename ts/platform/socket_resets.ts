/**
 * A guard for one defect of Deno's node:net, which the NATS client
 * (@nats-io/transport-node) meets: when the client has given a socket up
 * (removed its listeners and destroyed it, as after a refused login or a
 * server that went away mid-handshake), Deno may still deliver the peer's
 * reset as an `error` event on that socket. With no listener left, Deno
 * makes it an uncaught exception and ends the process. Node and Bun deliver
 * nothing there. The bridge must not die of a connection it had already
 * closed, so under Deno exactly those errors (ECONNRESET or EPIPE raised by
 * Deno's node:net, ext:deno_node) are reported to `log` and not left to end
 * the process, from the first bridge on (a reset can arrive after the bridge
 * closed). Everything else stays uncaught.
 *
 * @module
 */

let installed = false;
const sinks = new Set<(line: string) => void>();

/** Under Deno, keeps node:net resets of abandoned sockets from ending the process; a no-op elsewhere. */
export function guardAbandonedSocketResets(log: (line: string) => void): Disposable {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  if (g.Deno === undefined || g.Bun !== undefined || typeof g.addEventListener !== "function") {
    return { [Symbol.dispose]() {} };
  }
  sinks.add(log);
  if (!installed) {
    installed = true;
    g.addEventListener("error", (event: { error?: unknown; preventDefault(): void }) => {
      const e = event.error as { code?: unknown; stack?: unknown } | undefined;
      const code = e?.code;
      if ((code === "ECONNRESET" || code === "EPIPE") && String(e?.stack).includes("ext:deno_node")) {
        event.preventDefault();
        for (const sink of sinks) {
          sink(`ignored a ${code} from a socket the NATS client had closed (Deno node:net)`);
        }
      }
    });
  }
  return {
    [Symbol.dispose]() {
      sinks.delete(log);
    },
  };
}
