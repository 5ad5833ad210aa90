// Everything the CLI prints goes through here: colours (picocolors, which
// honours NO_COLOR, FORCE_COLOR and --no-color), aligned tables, and readable
// sizes, durations and percentiles.

import pc from "picocolors";

type Colors = ReturnType<typeof pc.createColors>;

let current: Colors = pc;

/** The colour functions in force (plain strings when colour is off). */
export function colors(): Colors {
  return current;
}

/** Turns colour off (for --json and when stdout is not a terminal). */
export function disableColors(): void {
  current = pc.createColors(false);
}

/**
 * Whether the CLI colours its output: picocolors' decision (NO_COLOR,
 * FORCE_COLOR, CI, TERM=dumb, a terminal on stdout), or off after
 * --no-color/--json. Commander's help is told the same, so that it never asks
 * Node's `hasColors()`, which in Deno reads variables the CLI has no
 * permission for (TMUX, COLORTERM, NODE_DISABLE_COLORS, ...).
 */
export function colorsEnabled(): boolean {
  return current.isColorSupported;
}

/** The reader of stdout went away (`wshm ... | head -1`): not an error, the command just ends. */
export class StdoutClosed extends Error {
  constructor() {
    super("stdout was closed by its reader");
    this.name = "StdoutClosed";
  }
}

/** True when stdout is a terminal (live status lines, in-place refresh). */
export function stdoutIsTerminal(): boolean {
  return Deno.stdout.isTerminal();
}

/** True when stderr is a terminal (progress bars). */
export function stderrIsTerminal(): boolean {
  return Deno.stderr.isTerminal();
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

function width(text: string): number {
  return text.replace(ANSI, "").length;
}

/** Column alignment of a table: left for text, right for numbers. */
export type Align = "left" | "right";

/**
 * Lays rows out in columns under a dimmed header, two spaces apart. Cells may
 * hold colour codes: widths are measured without them.
 */
export function table(header: string[], rows: string[][], align: Align[] = []): string {
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ""))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const pad = " ".repeat(widths[i] - width(cell));
        if (i === cells.length - 1 && align[i] !== "right") return cell;
        return align[i] === "right" ? pad + cell : cell + pad;
      })
      .join("  ");
  const c = colors();
  return [c.dim(line(header)), ...rows.map(line)].join("\n");
}

/** 65536 -> "64 KiB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || Number.isInteger(value) ? 0 : value < 10 ? 1 : 0;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** Microseconds, readable: "850 ns", "12.3 µs", "4.1 ms", "2.0 s". */
export function formatMicros(us: number): string {
  if (!Number.isFinite(us)) return "-";
  if (us < 1) return `${Math.round(us * 1000)} ns`;
  if (us < 1000) return `${us < 10 ? us.toFixed(2) : us < 100 ? us.toFixed(1) : us.toFixed(0)} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(us < 1e4 ? 2 : 1)} ms`;
  return `${(us / 1e6).toFixed(1)} s`;
}

/** An age in milliseconds, coarse: "42s", "5m", "3h", "2d". */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "-";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** A count per second, one format at every size: "850/s", "6.2k/s", "60.0k/s", "1.23M/s". */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return "-";
  if (perSecond >= 999_950) return `${(perSecond / 1e6).toFixed(2)}M/s`;
  if (perSecond >= 999.5) return `${(perSecond / 1e3).toFixed(1)}k/s`;
  return `${Math.round(perSecond)}/s`;
}

/** Permission bits as `ls` shows them: 0o640 -> "rw-r-----". */
export function formatMode(mode: number): string {
  const bits = "rwxrwxrwx";
  let text = "";
  for (let i = 0; i < 9; i++) text += mode & (1 << (8 - i)) ? bits[i] : "-";
  return text;
}

/** Parses "600", "0600" or "0o600" as octal permission bits; null if it is not one. */
export function parseMode(text: string): number | null {
  const digits = text.replace(/^0o/i, "");
  if (!/^[0-7]{1,4}$/.test(digits)) return null;
  const mode = parseInt(digits, 8);
  return mode <= 0o777 ? mode : null;
}

/** Parses a size such as "4096", "64k", "64KiB", "4M", "1g" into bytes; null if invalid. */
export function parseSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(text.trim());
  if (m === null) return null;
  const unit = (m[2] ?? "b").toLowerCase()[0];
  const scale = unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1;
  const bytes = Number(m[1]) * scale;
  return Number.isInteger(bytes) ? bytes : null;
}

export { percentiles } from "./stats.ts";
export type { Percentiles } from "./stats.ts";

/** Significant digits kept of a measured (fractional) number in --json output. */
const JSON_DIGITS = 6;

/**
 * `data` as JSON, with fractional numbers cut to 6 significant digits
 * (1791.5899999999992 -> 1791.59): they are measurements, and the float
 * noise past that is no information. Integers (counts, pids, epoch ms) are
 * kept whole.
 */
export function jsonText(data: unknown, indent?: number): string {
  return JSON.stringify(
    data,
    (_key, value) =>
      typeof value === "number" && Number.isFinite(value) && !Number.isInteger(value)
        ? Number(value.toPrecision(JSON_DIGITS))
        : value,
    indent,
  );
}

/** Prints data as one JSON document (for --json). */
export function printJson(data: unknown): void {
  console.log(jsonText(data, 2));
}

function writeAll(stream: typeof Deno.stdout | typeof Deno.stderr, text: string): void {
  const bytes = new TextEncoder().encode(text);
  try {
    for (let done = 0; done < bytes.length;) done += stream.writeSync(bytes.subarray(done));
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) throw new StdoutClosed();
    throw error;
  }
}

/**
 * Writes text to stdout without a newline (status lines, help), all of it.
 * Throws StdoutClosed when the reader has gone.
 */
export function writeOut(text: string): void {
  writeAll(Deno.stdout, text);
}

/** Writes text to stderr, all of it (commander's messages). */
export function writeErr(text: string): void {
  writeAll(Deno.stderr, text);
}
