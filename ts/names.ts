// Validation of segment and object names and of segment sizes: misuse the
// operating system would reject obscurely gets a clear coded error first.

import { WshmError } from "./errors.ts";

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
