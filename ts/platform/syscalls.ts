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
