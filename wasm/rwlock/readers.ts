// The readers' side of the rwlock (layout and protocol: rwlock/layout.ts):
// each reading process counts its holds in a slot of its own, so that a
// writer can tell who is inside and forget the slots of dead processes.
//
// A reader: count up its own slot, then read `state` (back off if a writer
// came first). A leaving reader: count down, then read `exits` and, if
// SLEEPING is set, bump its sequence and wake every sleeper there. A slot
// word changes only by CAS: its process claims it (0 -> pid|1) and counts
// up and down; anyone may free it while its count is 0, and a writer frees
// the slot of a dead process.

import { hostWake } from "../base/host";
import { processAlive, selfPid, selfStartTicks } from "../base/context";
import { CORRUPT, NOT_RECOVERABLE, OK, WOULD_BLOCK } from "../base/status";
import {
  CONSISTENCY, EXITS, INCONSISTENT, NO_SLOT, RETRY, SLEEPING, SLOT_TICKS, SLOT_WORD, STATE,
  STATE_NOT_RECOVERABLE, slotAt, slotCount,
} from "./layout";

/** Frees a slot seen holding `w`; false if it changed meanwhile. */
export function freeSlot(slot: u32, w: u64): bool {
  const ticks = atomic.load<u64>(slot + SLOT_TICKS);
  // SYNC: the start time is cleared before the word is freed, so whoever later
  // reads the next owner's pid never pairs it with this owner's start time.
  if (atomic.cmpxchg<u64>(slot + SLOT_TICKS, ticks, 0) != ticks) return false;
  if (atomic.cmpxchg<u64>(slot + SLOT_WORD, w, 0) == w) return true;
  atomic.cmpxchg<u64>(slot + SLOT_TICKS, 0, ticks); // its owner came back: restore
  return false;
}

/** Frees the slots of dead processes; returns how many. */
export function reapDead(a: u32, n: u32): u32 {
  let freed: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const slot = slotAt(a, i);
    const w = atomic.load<u64>(slot + SLOT_WORD);
    if (w == 0) continue;
    if (!processAlive(<u32>(w >> 32), atomic.load<u64>(slot + SLOT_TICKS)) && freeSlot(slot, w)) freed++;
  }
  return freed;
}

export function readersPresent(a: u32, n: u32): bool {
  for (let i: u32 = 0; i < n; i++) {
    if (<u32>atomic.load<u64>(slotAt(a, i) + SLOT_WORD) != 0) return true;
  }
  return false;
}

/** Sets SLEEPING on `exits`; returns the value to sleep on. */
export function armExits(a: u32): u32 {
  let x = atomic.load<u32>(a + EXITS);
  while ((x & SLEEPING) == 0) {
    const old = atomic.cmpxchg<u32>(a + EXITS, x, x | SLEEPING);
    if (old == x) return x | SLEEPING;
    x = old;
  }
  return x;
}

/** Counts a slot of ours down by one; then wakes whoever sleeps on `exits`. */
export function leaveSlot(a: u32, slot: u32): void {
  let w = atomic.load<u64>(slot + SLOT_WORD);
  while (<u32>(w >> 32) == selfPid && <u32>w != 0) {
    const old = atomic.cmpxchg<u64>(slot + SLOT_WORD, w, w - 1);
    if (old == w) break;
    w = old;
  }
  // SYNC: seq_cst after the count went down: a writer that set SLEEPING
  // before reading our count either saw it drop or is woken here.
  let x = atomic.load<u32>(a + EXITS);
  while ((x & SLEEPING) != 0) {
    const old = atomic.cmpxchg<u32>(a + EXITS, x, (x + 1) & ~SLEEPING);
    if (old == x) {
      hostWake(a + EXITS, i32.MAX_VALUE);
      return;
    }
    x = old;
  }
}

/** A new reader may enter only with no writer and no repair pending. */
// @ts-ignore: decorator
@inline export function openToReaders(a: u32): bool {
  return atomic.load<u32>(a + STATE) == 0 && atomic.load<u32>(a + CONSISTENCY) != INCONSISTENT;
}

/** After counting up from zero: stay if no writer came first, else back off. */
function confirmReader(a: u32, slot: u32): i32 {
  // SYNC: seq_cst after our count went up; pairs with a writer's CAS of
  // `state` before it reads the slots.
  if (openToReaders(a)) return OK;
  leaveSlot(a, slot);
  return WOULD_BLOCK;
}

/**
 * Counts up this process's slot. OK (reading), WOULD_BLOCK (a writer is
 * there or repair is pending), NO_SLOT, NOT_RECOVERABLE or CORRUPT.
 * A process that already reads may read again even while a writer waits: the
 * writer waits for it anyway, and refusing would deadlock a nested read.
 */
export function readEnter(a: u32, offset: u32): i32 {
  const n = slotCount(a, offset);
  if (n == 0) return CORRUPT;
  const open = openToReaders(a);
  if (!open && atomic.load<u32>(a + STATE) == STATE_NOT_RECOVERABLE) return NOT_RECOVERABLE;
  const h = selfPid % n;
  let free: u32 = 0;
  let idle: u32 = 0;
  let idleWord: u64 = 0;
  for (let i: u32 = 0, index = h; i < n; i++, index = index + 1 == n ? 0 : index + 1) {
    const slot = slotAt(a, index);
    let w = atomic.load<u64>(slot + SLOT_WORD);
    while (<u32>(w >> 32) == selfPid) {
      const count = <u32>w;
      if (count == 0 && !open) break;
      if (count == u32.MAX_VALUE) return CORRUPT;
      const old = atomic.cmpxchg<u64>(slot + SLOT_WORD, w, w + 1);
      if (old == w) return count == 0 ? confirmReader(a, slot) : OK;
      w = old;
    }
    if (w == 0) {
      if (free == 0) free = slot;
    } else if (<u32>w == 0 && idle == 0) {
      idle = slot;
      idleWord = w;
    }
  }
  if (!open) return WOULD_BLOCK;
  // A slot another process holds with count 0 is taken over: it reads no more.
  if (free == 0 && idle != 0 && freeSlot(idle, idleWord)) free = idle;
  if (free == 0) return NO_SLOT;
  if (atomic.cmpxchg<u64>(free + SLOT_WORD, 0, (<u64>selfPid << 32) | 1) != 0) return RETRY;
  atomic.store<u64>(free + SLOT_TICKS, selfStartTicks);
  return confirmReader(a, free);
}
