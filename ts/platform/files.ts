// Files through the C library, for the POSIX layer (posix.ts): C strings,
// open flags, struct stat decoded per architecture, and whole small files read
// with pread (so that no runtime permission beyond FFI is needed).

import { arch } from "./arch.ts";
import type { Libc } from "./types.ts";

export const O_RDONLY = 0;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_CLOEXEC = 0o2000000;
export const EINTR = 4;

// struct stat: st_size is at 48 on both; st_mode, st_uid and st_gid move.
// x86_64 (asm/stat.h): dev 0, ino 8, nlink 16 (u64), mode 24, uid 28, gid 32, pad 36, rdev 40,
// size 48 (144 bytes).
// aarch64 (asm-generic/stat.h): dev 0, ino 8, mode 16, nlink 20 (u32), uid 24, gid 28, rdev 32,
// pad 40, size 48 (128 bytes); the buffer has the larger size. Both as glibc's offsetof and
// sizeof give them (the aarch64 ones from aarch64-linux-gnu-gcc, run under qemu-aarch64).
// The open flags above, the mmap flags and the errno values wshm uses are the same on both.
export const STAT_SIZE = 144;
const STAT_MODE = arch === "aarch64" ? 16 : 24;
const STAT_UID = arch === "aarch64" ? 24 : 28;
const STAT_GID = arch === "aarch64" ? 28 : 32;
const STAT_FILE_SIZE = 48;

/** What `fstat` says of a segment file. */
export interface FileStatus {
  /** True for a regular file (every segment is one; a FIFO or device in /dev/shm is not). */
  regular: boolean;
  size: number;
  /** Permission bits (the low 12 bits of st_mode). */
  mode: number;
  /** The owner's user id. */
  uid: number;
  /** The file's group id. */
  gid: number;
}

const encoder = new TextEncoder();

/** `text` as a NUL-terminated C string. */
export function cString(text: string): Uint8Array {
  const bytes = new Uint8Array(encoder.encode(text).length + 1);
  encoder.encodeInto(text, bytes);
  return bytes;
}

/** The fields of a struct stat that `fstat` filled into `bytes` (STAT_SIZE of them). */
export function decodeStat(bytes: Uint8Array): FileStatus {
  const view = new DataView(bytes.buffer);
  const mode = view.getUint32(STAT_MODE, true);
  return {
    regular: (mode & 0o170000) === 0o100000,
    size: Number(view.getBigInt64(STAT_FILE_SIZE, true)),
    mode: view.getUint32(STAT_MODE, true) & 0o7777,
    uid: view.getUint32(STAT_UID, true),
    gid: view.getUint32(STAT_GID, true),
  };
}

/** The whole of the file at `path`, at most `limit` bytes; null if it cannot be opened. */
export function readWholeFile(c: Libc, path: string, limit: number): Uint8Array | null {
  const fd = c.open(cString(path), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return null;
  try {
    // One fixed buffer per read, copied out: a view with an offset is not passed to the FFI.
    const chunk = new Uint8Array(64 * 1024);
    const parts: Uint8Array[] = [];
    let length = 0;
    while (length < limit) {
      const n = c.pread(fd, chunk, chunk.length, length);
      if (n < 0 && c.errno() === EINTR) continue;
      if (n <= 0) break;
      parts.push(chunk.slice(0, n));
      length += n;
    }
    const whole = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      whole.set(part, at);
      at += part.length;
    }
    return whole.subarray(0, Math.min(length, limit));
  } finally {
    c.close(fd);
  }
}
