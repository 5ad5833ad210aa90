// Linux syscall numbers and constants that differ by architecture, chosen once.

import { arch } from "./arch.ts";

/** futex(2): 202 on x86_64, 98 on aarch64 (asm-generic). */
export const SYS_FUTEX: number = arch === "x86_64" ? 202 : 98;
export const FUTEX_WAIT = 0;
export const FUTEX_WAKE = 1;
/** clock_gettime(2)'s CLOCK_MONOTONIC (the same number on every Linux architecture). */
export const CLOCK_MONOTONIC = 1;
