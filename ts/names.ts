// Validation of segment and object names, segment sizes and the numeric and
// option arguments of every public call: misuse the operating system or the
// core would reject obscurely (or coerce silently: a wasm i32 parameter turns
// NaN into 0, 1.5 into 1, 2^32 + 5 into 5 and "7" into 7) gets a clear coded
// error first. A value of the wrong type is a TypeError, a number out of range
// a RangeError, both with code "InvalidArgument" (see argumentError).

import { argumentError, WshmError } from "./errors.ts";

/** The longest segment name after the leading slash (Linux NAME_MAX for a /dev/shm file). */
export const SEGMENT_NAME_MAX = 255;

const encoder = new TextEncoder();

/** Throws InvalidName unless `name` is "/" followed by 1..255 bytes with no "/" or NUL. */
export function checkSegmentName(name: unknown): asserts name is string {
  if (typeof name !== "string") {
    throw new WshmError("InvalidName", `A segment name must be a string, not ${typeof name}`);
  }
  const problem = name.length === 0
    ? "it is empty"
    : !name.startsWith("/")
    ? 'it must start with "/"'
    : name.length === 1
    ? 'it needs at least one character after "/"'
    : name.indexOf("/", 1) !== -1
    ? 'it may not contain "/" after the first character'
    : name.includes("\0")
    ? "it may not contain NUL"
    : name === "/." || name === "/.."
    ? 'it may not be "." or ".."'
    : encoder.encode(name).length - 1 > SEGMENT_NAME_MAX
    ? `it is longer than ${SEGMENT_NAME_MAX} bytes`
    : undefined;
  if (problem !== undefined) {
    throw new WshmError("InvalidName", `Invalid segment name ${JSON.stringify(name)}: ${problem}`);
  }
}

/** Throws InvalidName unless `name` is a string (the rest is checked when it is looked up). */
export function checkObjectNameType(name: unknown): asserts name is string {
  if (typeof name !== "string") {
    throw new WshmError("InvalidName", `An object name must be a string, not ${typeof name}`);
  }
}

/** How a value looks in an error message (a Symbol or BigInt cannot go through a template as is). */
export function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "symbol" || typeof value === "bigint") return String(value);
  if (typeof value === "object" && value !== null) return Array.isArray(value) ? "an array" : "an object";
  return String(value);
}

/**
 * `value` if it is an integer from `min` to `max`; a TypeError if it is not
 * a number at all, a RangeError if it is NaN, fractional, infinite or out of
 * range. `what` names it ("count", "message type"); `range` says the range in
 * words when "min to max" is not the clearest ("a power of two from 64 to 2^30").
 */
export function checkInteger(value: unknown, what: string, min: number, max: number, range?: string): number {
  if (typeof value !== "number") {
    throw argumentError("type", `Invalid ${what} ${shown(value)}: it must be a number, not ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw argumentError(
      "range",
      `Invalid ${what} ${value}: it must be ${range ?? `an integer from ${min} to ${max}`}`,
    );
  }
  return value;
}

/** `options`, or `{}` when undefined; a TypeError for null or anything that is not an object. */
export function checkOptions<T extends object>(options: T | undefined, what: string): T {
  if (options === undefined) return {} as T;
  if (typeof options !== "object" || options === null) {
    throw argumentError("type", `The options of ${what} must be an object, not ${shown(options)}`);
  }
  return options;
}

/**
 * The options argument of a call: undefined or an object. A number or a
 * string there (`lock(1000)`) would otherwise be ignored, and the call would
 * wait forever instead of for the time meant.
 */
export function checkCallOptions(options: unknown): void {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw argumentError(
      "type",
      `Invalid options ${shown(options)}: pass an object such as { timeoutMs: 1000 }`,
    );
  }
}

/** `value ?? fallback` for a boolean option; a TypeError for anything else ("yes", 0). */
export function booleanOption(value: unknown, what: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw argumentError("type", `Invalid ${what} ${shown(value)}: it must be true or false`);
  }
  return value;
}

/** The UTF-8 bytes of an object name, or InvalidName if it is empty, too long or holds NUL. */
export function objectNameBytes(name: unknown, maxBytes: number): Uint8Array {
  if (typeof name !== "string") {
    throw new WshmError("InvalidName", `An object name must be a string, not ${typeof name}`);
  }
  const bytes = encoder.encode(name);
  if (bytes.length === 0 || bytes.length > maxBytes || name.includes("\0")) {
    throw new WshmError(
      "InvalidName",
      `Invalid object name ${JSON.stringify(name)}: it must be 1 to ${maxBytes} bytes of UTF-8 without NUL`,
    );
  }
  return bytes;
}

/** A segment size rounded up to whole pages, or InvalidSize. */
export function checkSegmentSize(size: unknown, page: number, max: number): number {
  if (typeof size !== "number" || !Number.isInteger(size) || size <= 0 || size > max) {
    throw new WshmError(
      "InvalidSize",
      `Invalid segment size ${String(size)}: it must be a whole number of bytes from 1 to ${max}` +
        ` (${max / 2 ** 20} MiB); it is rounded up to a multiple of ${page}`,
    );
  }
  return Math.ceil(size / page) * page;
}
