// The far side of the Unix domain socket baselines of channel.ts and ring.ts:
// listens on PATH, accepts one connection, prints "ready" before accepting.
//   echo    writes back every byte it reads, until the client closes
//   stream  writes COUNT messages of SIZE bytes, BATCH messages per write,
//           honouring back-pressure, then closes. Each message is made as
//           the ring's producer makes it (_loops.ts): 64 B = its number in
//           all 16 words; larger = a copy of a template, then its number in
//           the first and last word. node:net gets a fresh buffer per write
//           (it keeps the buffer until sent); the others reuse one.
// API net: node:net (all three runtimes); native: Deno.listen under Deno,
// Bun.listen under Bun (the runtime's own sockets, usually faster).
//
//   socket_peer.ts echo PATH API
//   socket_peer.ts stream PATH API COUNT SIZE BATCH

import net from "node:net";
import { existsSync, unlinkSync } from "node:fs";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const [role, path, api, countText, sizeText, batchText] = process.argv.slice(2);
const count = Number(countText);
const size = Number(sizeText);
const batch = Number(batchText);
if (role !== "echo" && role !== "stream") throw new Error(`unknown role ${role}: echo or stream`);
const writes = role === "stream" ? Math.ceil(count / batch) : 0;
const template = new Uint8Array(role === "stream" ? size : 0).fill(0x5a);
const reused = new Uint8Array(role === "stream" ? size * batch : 0);
let seq = 0;

// A parent that dies before it connects would leave this process listening
// forever and its socket file behind: give up after 10 s. Once connected, the
// parent's death closes the connection, which ends this process anyway.
const watchdog = setTimeout(() => {
  try {
    if (existsSync(path)) unlinkSync(path);
  } catch { /* removed meanwhile */ }
  console.error(`socket_peer: nobody connected to ${path} within 10 s`);
  process.exit(1);
}, 10_000);
const connected = () => clearTimeout(watchdog);

/** The next write: up to BATCH messages, numbered on from the last, made in `into` (or in `reused`). */
function nextChunk(into: Uint8Array = reused): Uint8Array {
  const n = Math.min(batch, count - seq);
  const words = new Int32Array(into.buffer, into.byteOffset, (n * size) >> 2);
  const per = size >> 2;
  for (let i = 0; i < n; i++, seq++) {
    const first = i * per;
    if (size === 64) {
      for (let w = first; w < first + per; w++) words[w] = seq;
    } else {
      into.set(template, i * size);
      words[first] = words[first + per - 1] = seq;
    }
  }
  return n === batch ? into : into.subarray(0, n * size);
}

async function denoNative(): Promise<void> {
  const listener = g.Deno.listen({ transport: "unix", path });
  console.log("ready");
  const conn = await listener.accept();
  connected();
  listener.close();
  const writeAll = async (bytes: Uint8Array) => {
    for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
  };
  if (role === "echo") {
    const buffer = new Uint8Array(65536);
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      await writeAll(buffer.subarray(0, n));
    }
  } else {
    for (let i = 0; i < writes; i++) await writeAll(nextChunk());
  }
  conn.close();
}

function bunNative(): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending: Uint8Array | null = null; // what a short write left over
    let written = 0;
    // deno-lint-ignore no-explicit-any
    const pump = (socket: any) => {
      while (true) {
        if (pending !== null) {
          const n = socket.write(pending);
          if (n < pending.length) {
            pending = pending.subarray(Math.max(0, n));
            return; // drain() calls again
          }
          pending = null;
        }
        if (role === "echo" || written === writes) {
          if (role === "stream") socket.end();
          return;
        }
        pending = nextChunk();
        written++;
      }
    };
    const server = g.Bun.listen({
      unix: path,
      socket: {
        // deno-lint-ignore no-explicit-any
        open(socket: any) {
          connected();
          if (role === "stream") pump(socket);
        },
        // deno-lint-ignore no-explicit-any
        data(socket: any, data: Uint8Array) {
          if (role !== "echo") return;
          pending = pending === null ? data.slice() : concat(pending, data);
          pump(socket);
        },
        drain: pump,
        close() {
          server.stop(true);
          resolve();
        },
        error(_socket: unknown, error: Error) {
          reject(error);
        },
      },
    });
    console.log("ready");
  });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function nodeNet(): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      connected();
      server.close();
      socket.on("error", reject);
      socket.on("close", () => resolve());
      if (role === "echo") {
        socket.on("data", (data) => socket.write(data));
        socket.on("end", () => socket.end());
        return;
      }
      let written = 0;
      const pump = () => {
        while (written < writes) {
          const ok = socket.write(nextChunk(Buffer.allocUnsafe(size * batch)));
          written++;
          if (!ok) return void socket.once("drain", pump);
        }
        socket.end();
      };
      pump();
    });
    server.on("error", reject);
    server.listen(path, () => console.log("ready"));
  });
}

if (api === "native" && g.Deno) await denoNative();
else if (api === "native" && g.Bun) await bunNative();
else if (api === "net") await nodeNet();
else throw new Error(`no ${api} sockets in this runtime`);
