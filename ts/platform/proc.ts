// Process identity from /proc/PID/stat, for the POSIX layer (posix.ts): the
// state and start time that tell a live process from a dead one whose pid
// was reused.

import type { Libc } from "./types.ts";
import { cString, O_CLOEXEC, O_RDONLY } from "./files.ts";

/**
 * Fields of /proc/PID/stat after the command name: [state, ppid, ...]; null
 * if gone. Read into `buffer` (no allocation but the decoded text).
 */
export function procStat(c: Libc, pid: number, buffer: Uint8Array): string[] | null {
  // The main thread's entry, task/PID/stat, has the same state and starttime
  // as PID/stat (the kernel takes both from the thread-group leader). It is
  // read instead because qemu-user answers a process's reads of its own
  // /proc/self/stat and /proc/PID/stat itself, with every field but pid,
  // comm, ppid and starttime 0 and starttime from qemu's own clock reading at
  // its start (measured here 10 ticks after the kernel's), so that a process
  // under qemu recorded a start time its peers, reading the kernel's, never
  // matched, and they took its live locks over as a dead owner's. The task/
  // path is passed through to the kernel.
  const fd = c.open(cString(`/proc/${pid}/task/${pid}/stat`), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return null;
  const n = c.pread(fd, buffer, buffer.length, 0);
  c.close(fd);
  if (n <= 0) return null;
  const text = new TextDecoder().decode(buffer.subarray(0, n));
  // The command name is in parentheses and may itself hold spaces or ')'.
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/** The start time (clock ticks after boot) in the fields of procStat; null for null. */
export function startTicksOf(fields: string[] | null): bigint | null {
  // starttime is field 22 of stat; fields[0] here is field 3 (state).
  return fields === null ? null : BigInt(fields[19]);
}
