/**
 * Messages are bytes. These helpers turn strings and JSON into bytes and
 * back, and write text straight into a shared view (zero-copy send) without
 * an intermediate buffer.
 *
 * @module
 */

import { argumentError } from "./errors.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What the send and request calls accept: bytes, or a string sent as UTF-8. */
export type Message = Uint8Array | string;

/**
 * The UTF-8 length of `text`, computed without encoding it.
 *
 * @example
 * ```ts
 * import { utf8Length } from "wshm";
 * console.log(utf8Length("héllo")); // 6
 * ```
 */
export function utf8Length(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      length += 1;
    } else if (c >= 0xD800 && c <= 0xDBFF && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      // A surrogate pair: two UTF-16 units, four UTF-8 bytes.
      if (d >= 0xDC00 && d <= 0xDFFF) {
        length += 2;
        i++;
      } else {
        length += 2;
      }
    } else {
      length += 2;
    }
  }
  return length;
}

/**
 * The byte length a message takes once encoded.
 *
 * @example
 * ```ts
 * import { messageLength } from "wshm";
 * console.log(messageLength("é"), messageLength(new Uint8Array(3))); // 2 3
 * ```
 */
export function messageLength(message: Message): number {
  if (typeof message === "string") return utf8Length(message);
  if (message instanceof Uint8Array) return message.length;
  throw argumentError(
    "type",
    `A message must be a Uint8Array or a string, not ${message === null ? "null" : typeof message}`,
  );
}

/**
 * Writes `message` into `target` at `at` (it must have room for
 * `messageLength(message)` bytes); returns the bytes written.
 *
 * @example
 * ```ts
 * import { writeMessage } from "./codec.ts";
 * const target = new Uint8Array(8);
 * writeMessage(target, 2, "hi"); // 2
 * ```
 */
export function writeMessage(target: Uint8Array, at: number, message: Message): number {
  if (typeof message === "string") return encoder.encodeInto(message, target.subarray(at)).written;
  target.set(message, at);
  return message.length;
}

/**
 * Encodes `text` as UTF-8 into `target` (a view, for example a claimed
 * record); returns the bytes written. Throws RangeError if it does not fit.
 *
 * @example
 * ```ts
 * import { writeText } from "wshm";
 * const buffer = new Uint8Array(16);
 * const n = writeText(buffer, "hello"); // 5
 * ```
 */
export function writeText(target: Uint8Array, text: string): number {
  const { read, written } = encoder.encodeInto(text, target);
  if (read !== text.length) {
    throw argumentError("range", `Text of ${utf8Length(text)} bytes does not fit in ${target.length} bytes`);
  }
  return written;
}

/**
 * UTF-8 bytes of `text`.
 *
 * @example
 * ```ts
 * import { encodeText, decodeText } from "wshm";
 * console.log(decodeText(encodeText("hi"))); // "hi"
 * ```
 */
export function encodeText(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * The string a UTF-8 view holds (a shared view is fine; nothing is kept).
 *
 * @example
 * ```ts
 * import { decodeText } from "wshm";
 * console.log(decodeText(new Uint8Array([104, 105]))); // "hi"
 * ```
 */
export function decodeText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * UTF-8 bytes of `JSON.stringify(value)`.
 *
 * @example
 * ```ts
 * import { decodeJson, encodeJson } from "wshm";
 * const back = decodeJson<{ n: number }>(encodeJson({ n: 1 }));
 * ```
 */
export function encodeJson(value: unknown): Uint8Array {
  const text = JSON.stringify(value);
  if (text === undefined) throw argumentError("type", "This value has no JSON form");
  return encoder.encode(text);
}

/**
 * The value of UTF-8 JSON bytes.
 *
 * @example
 * ```ts
 * import { decodeJson, encodeText } from "wshm";
 * console.log(decodeJson<number[]>(encodeText("[1,2]"))); // [1, 2]
 * ```
 */
export function decodeJson<T = unknown>(bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes)) as T;
}
