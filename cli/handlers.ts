// What `wshm serve --handler NAME` does with each request: request bytes in,
// response bytes out. Shared with the demo's Node and Bun clients
// (cli/peer.ts), which compute the response they expect. The simple handlers
// work in place, without allocating, since they run on the server's hot path.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A request's bytes in, the response's bytes out (possibly the same array, changed in place). */
export type Handler = (request: Uint8Array) => Uint8Array;

/**
 * The handlers by name, each with the one-line description `wshm serve --help` shows.
 *
 * @example
 * ```ts
 * import { HANDLERS } from "./handlers.ts";
 * HANDLERS.upper.handle(new TextEncoder().encode("hi")); // "HI"
 * ```
 */
export const HANDLERS: Record<string, { describe: string; handle: Handler }> = {
  echo: { describe: "returns the request unchanged", handle: (request) => request },
  upper: {
    describe: "upper-cases the text (every script: wide world -> WIDE WORLD, wöß -> WÖSS)",
    handle: (request) => {
      // ASCII (the common case, and the load runs) in place; anything else
      // through String.prototype.toUpperCase, which may change the length.
      for (let i = 0; i < request.length; i++) {
        if (request[i] >= 0x80) return encoder.encode(decoder.decode(request).toUpperCase());
      }
      for (let i = 0; i < request.length; i++) {
        const b = request[i];
        if (b >= 0x61 && b <= 0x7a) request[i] = b - 0x20;
      }
      return request;
    },
  },
  reverse: {
    describe: "reverses the text (by code point)",
    handle: (request) => encoder.encode([...decoder.decode(request)].reverse().join("")),
  },
  length: {
    describe: "answers with the request's length in bytes, as text",
    handle: (request) => encoder.encode(String(request.length)),
  },
  time: {
    describe: "answers with the server's clock (ISO 8601)",
    handle: () => encoder.encode(new Date().toISOString()),
  },
};
