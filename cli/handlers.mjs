// @ts-check
// What `wshm serve --handler NAME` does with each request: request bytes in,
// response bytes out. Plain JavaScript so that the demo's Node and Bun
// clients can compute the response they expect. The simple handlers work in
// place, without allocating, since they run on the server's hot path.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** @typedef {(request: Uint8Array) => Uint8Array} Handler */

/** @type {Record<string, { describe: string, handle: Handler }>} */
export const HANDLERS = {
  echo: { describe: "returns the request unchanged", handle: (request) => request },
  upper: {
    describe: "upper-cases ASCII letters",
    handle: (request) => {
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
