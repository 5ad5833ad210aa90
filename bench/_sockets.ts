// The near side of the Unix domain socket baselines (socket_peer.ts is the
// far side): a 64-byte round trip, and a one-way stream. Each API is used the
// way it is fastest: node:net and Bun sockets drive the next write from the
// data callback (no promise per message); Deno's own sockets can only be
// awaited. Every run starts its own peer on a fresh path in the temporary
// directory and removes the path as soon as the connection stands.

import net from "node:net";
import { existsSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { atExit, pinThisProcess, runtime, startPeer } from "./lib.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** The socket APIs of this runtime: node:net everywhere, plus Deno's or Bun's own. */
export const SOCKET_APIS: string[] = runtime === "node" ? ["net"] : ["net", "native"];

/** How a row names an API. */
export function socketLabel(api: string): string {
  return api === "net" ? "node:net" : runtime === "deno" ? "Deno.connect" : "Bun.connect";
}

let serial = 0;

/** Starts socket_peer ROLE on a fresh path; `use(path)` connects; the path and the peer go when done. */
async function withPeer<T>(
  role: string,
  api: string,
  extra: Array<string | number>,
  use: (path: string, forget: () => void) => Promise<T>,
  cpu?: number,
): Promise<T> {
  const path = join(tmpdir(), `wshm-bench-${process.pid}-${serial++}.sock`);
  const forget = atExit(() => {
    // node:net's server removes its path itself when it closes: it may be gone already.
    if (existsSync(path)) {
      try {
        unlinkSync(path);
      } catch { /* removed meanwhile */ }
    }
  });
  const peer = await startPeer("socket_peer", [role, path, api, ...extra], cpu === undefined ? {} : { cpu });
  try {
    const result = await use(path, forget);
    await peer.exited(10_000);
    return result;
  } finally {
    peer.kill();
    forget();
  }
}

/**
 * `warm` untimed then `trips` timed round trips of 64 bytes (ns each) through
 * an echoing peer; with `cpu`, this process and the peer both run on that CPU.
 */
export async function socketRoundTrips(
  api: string,
  trips: number,
  warm: number,
  cpu?: number,
): Promise<Float64Array> {
  const unpin = cpu === undefined ? () => {} : pinThisProcess(cpu);
  try {
    return await echoRoundTrips(api, trips, warm, cpu);
  } finally {
    unpin();
  }
}

function echoRoundTrips(api: string, trips: number, warm: number, cpu?: number): Promise<Float64Array> {
  return withPeer("echo", api, [], async (path, forget) => {
    const samples = new Float64Array(trips);
    const message = new Uint8Array(64);
    if (api === "native" && g.Deno) {
      const conn = await g.Deno.connect({ transport: "unix", path });
      forget();
      const buffer = new Uint8Array(4096);
      let previous = performance.now();
      for (let i = -warm; i < trips; i++) {
        for (let done = 0; done < 64;) done += await conn.write(message.subarray(done));
        for (let got = 0; got < 64;) {
          const n = await conn.read(buffer);
          if (n === null) throw new Error("the echo peer closed early");
          got += n;
        }
        const now = performance.now();
        if (i >= 0) samples[i] = (now - previous) * 1e6;
        previous = now;
      }
      conn.close();
      return samples;
    }
    return await new Promise<Float64Array>((resolve, reject) => {
      let i = -warm;
      let got = 0;
      let previous = performance.now();
      // deno-lint-ignore no-explicit-any
      let socket: any;
      const onData = (length: number) => {
        got += length;
        if (got < 64) return;
        got -= 64;
        const now = performance.now();
        if (i >= 0) samples[i] = (now - previous) * 1e6;
        previous = now;
        if (++i === trips) {
          socket.end();
          resolve(samples);
        } else socket.write(message);
      };
      if (api === "native") {
        g.Bun.connect({
          unix: path,
          socket: {
            // deno-lint-ignore no-explicit-any
            open(s: any) {
              socket = s;
              forget();
              previous = performance.now();
              s.write(message);
            },
            data: (_s: unknown, data: Uint8Array) => onData(data.length),
            error: (_s: unknown, error: Error) => reject(error),
            connectError: (_s: unknown, error: Error) => reject(error),
          },
        }).catch(reject);
      } else {
        socket = net.connect(path, () => {
          forget();
          previous = performance.now();
          socket.write(message);
        });
        socket.on("data", (data: Uint8Array) => onData(data.length));
        socket.on("error", reject);
      }
    });
  }, cpu);
}

/**
 * Receives a stream of `count` messages of `size` bytes written `batch` per
 * write, checking each message's number (its first byte is the number's low
 * byte, as socket_peer.ts writes them); returns the seconds from the end of
 * message `warm` to the end of the last one.
 */
export function socketStream(
  api: string,
  count: number,
  size: number,
  batch: number,
  warm: number,
): Promise<number> {
  return withPeer("stream", api, [count, size, batch], async (path, forget) => {
    const total = count * size;
    const warmBytes = warm * size;
    let got = 0;
    let started = 0;
    let next = 0; // stream position of the next message's first byte
    const take = (chunk: Uint8Array, n: number): boolean => {
      const before = got;
      for (; next < got + n; next += size) {
        if (chunk[next - got] !== ((next / size) & 0xff)) {
          throw new Error(`message ${next / size} is out of order`);
        }
      }
      got += n;
      if (before < warmBytes && got >= warmBytes) started = performance.now();
      return got >= total;
    };
    if (api === "native" && g.Deno) {
      const conn = await g.Deno.connect({ transport: "unix", path });
      forget();
      const buffer = new Uint8Array(1 << 18);
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        if (take(buffer, n)) break;
      }
      conn.close();
    } else {
      await new Promise<void>((resolve, reject) => {
        const onData = (data: Uint8Array) => {
          try {
            if (take(data, data.length)) resolve();
          } catch (error) {
            reject(error);
          }
        };
        if (api === "native") {
          g.Bun.connect({
            unix: path,
            socket: {
              open: () => forget(),
              data: (_s: unknown, data: Uint8Array) => onData(data),
              close: () => (got >= total
                ? resolve()
                : reject(new Error(`the stream ended after ${got} of ${total} bytes`))),
              error: (_s: unknown, error: Error) =>
                reject(error),
              connectError: (_s: unknown, error: Error) => reject(error),
            },
          }).catch(reject);
        } else {
          const socket = net.connect(path, () => forget());
          socket.on("data", onData);
          socket.on("error", reject);
          socket.on(
            "end",
            () => (got >= total
              ? resolve()
              : reject(new Error(`the stream ended after ${got} of ${total} bytes`))),
          );
        }
      });
    }
    if (got < total) throw new Error(`the stream ended after ${got} of ${total} bytes`);
    return (performance.now() - started) / 1000;
  });
}
