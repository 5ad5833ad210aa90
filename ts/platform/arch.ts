// Which runtime, operating system and processor this is, read without touching
// any runtime-specific module, so that it works unchanged in Deno, Node and Bun.

import type { RuntimeName } from "./types.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** The runtime executing this module. */
export const runtime: RuntimeName = g.Bun !== undefined ? "bun" : g.Deno !== undefined ? "deno" : "node";

function readOs(): string {
  if (runtime === "deno") return g.Deno.build.os;
  return g.process?.platform ?? "unknown";
}

function readArch(): string {
  const raw: string = runtime === "deno" ? g.Deno.build.arch : g.process?.arch ?? "unknown";
  if (raw === "x64") return "x86_64";
  if (raw === "arm64") return "aarch64";
  return raw;
}

/** "linux", "darwin", ... */
export const os: string = readOs();
/** "x86_64", "aarch64", ... (Node's names translated). */
export const arch: string = readArch();
/** True on the platforms wshm supports: Linux on x86_64 or aarch64. */
export const supported: boolean = os === "linux" && (arch === "x86_64" || arch === "aarch64");
