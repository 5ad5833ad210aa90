// Linux syscall numbers and constants that differ by architecture, chosen once.

import { arch } from "./arch.ts";

/**
 * futex(2): 202 on x86_64 (`__NR_futex` in asm/unistd_64.h), 98 on aarch64
 * (`__NR_futex` in asm-generic/unistd.h, which arm64 uses). Both checked
 * against Debian's headers and a C program's `SYS_futex`, the aarch64 one
 * built with aarch64-linux-gnu-gcc and run under qemu-aarch64.
 */
export const SYS_FUTEX: number = arch === "x86_64" ? 202 : 98;
export const FUTEX_WAIT = 0;
export const FUTEX_WAKE = 1;

/**
 * futex_waitv(2) (Linux 5.16): 449 on x86_64 and on aarch64 (syscalls added
 * since 5.1 share one number on every architecture: asm-generic/unistd.h and
 * arch/x86/entry/syscalls/syscall_64.tbl agree).
 */
export const SYS_FUTEX_WAITV = 449;
/** struct futex_waitv.flags: a 32-bit futex word, shared (not FUTEX_PRIVATE_FLAG). */
export const FUTEX2_SIZE_U32 = 0x02;
/** The clock of futex_waitv's absolute timeout. */
export const CLOCK_REALTIME = 0;
/** clock_gettime(2)'s CLOCK_MONOTONIC (the same number on every Linux architecture). */
export const CLOCK_MONOTONIC = 1;
