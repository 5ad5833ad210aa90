// Per-instance state of the core: who this process is and where the segment
// ends. Each process instantiates the module once per attached segment, so
// these globals (wasm globals, outside linear memory) are never shared.

import { SEGMENT_BASE } from "../segment/layout";
import { hostProcessAlive } from "./host";

/** This process's pid, the identity written into lock words. */
export let selfPid: u32 = 0;
/** This process's start time in clock ticks since boot; with the pid it survives pid reuse. */
export let selfStartTicks: u64 = 0;
/** One past the last wasm address of the segment. */
export let segmentEnd: u32 = SEGMENT_BASE;
/** How long a sleeper waits before it checks whether a lock's holder is still alive. */
export let livenessPollMs: f64 = 100;
/** How many times a contended lock loads its word before parking. */
export let spinLimit: i32 = 100;

export function setIdentity(pid: u32, startTicks: u64): void {
  selfPid = pid;
  selfStartTicks = startTicks;
}

export function setSegmentEnd(end: u32): void {
  segmentEnd = end;
}

/** Sets how often sleepers check the liveness of a holder (milliseconds, at least 1). */
export function setLivenessPollMs(ms: f64): void {
  livenessPollMs = ms < 1 ? 1 : ms;
}

/** Sets how many loads a contended lock spins before it parks (0 parks at once). */
export function setSpinLimit(count: i32): void {
  spinLimit = count < 0 ? 0 : count;
}

/**
 * The extent [objectStart, objectEnd) of the object the running export
 * addresses (segment offsets), taken from the private handle table
 * (segment/handles.ts) at the start of the call. Never shared: wasm globals.
 */
let objectStart: u32 = 0;
let objectEnd: u32 = 0;

export function setObjectExtent(offset: u32, size: u32): void {
  objectStart = offset;
  objectEnd = offset + size;
}

/**
 * True if [offset, offset + size) lies inside the object the running export
 * addresses (segment offsets, 64-bit arithmetic). Every geometry that a
 * protocol reads from shared memory (a capacity, a slot count) is checked
 * with this before any address is derived from it.
 */
// @ts-ignore: decorator
@inline export function inObject(offset: u32, size: u32): bool {
  return offset >= objectStart && <u64>offset + <u64>size <= <u64>objectEnd;
}

/** True if [offset, offset + size) lies inside the segment (offsets are segment offsets). */
// @ts-ignore: decorator
@inline export function inSegment(offset: u32, size: u32): bool {
  return <u64>SEGMENT_BASE + <u64>offset + <u64>size <= <u64>segmentEnd;
}

/**
 * Records this process as the holder of a lock or role: its start time, then
 * the pid that vouches for it. A reader trusts the start time only while the
 * record pid equals the pid it is checking (recordedHolderAlive).
 */
export function writeHolderRecord(recordPidAddress: u32, startAddress: u32): void {
  store<u64>(startAddress, selfStartTicks);
  // SYNC: the start time is written before the pid that vouches for it; a
  // checker that reads this pid and then the start time sees a matching pair.
  atomic.store<u32>(recordPidAddress, selfPid);
}

/**
 * Liveness of the holder `pid` of a lock or role, with the start time of its
 * record used only while the record's pid vouches for it (read before and
 * after), so a record left by an earlier holder is never applied to this one.
 */
export function recordedHolderAlive(recordPidAddress: u32, startAddress: u32, pid: u32): bool {
  let startTicks: u64 = 0;
  if (atomic.load<u32>(recordPidAddress) == pid) {
    startTicks = load<u64>(startAddress);
    if (atomic.load<u32>(recordPidAddress) != pid) startTicks = 0;
  }
  return processAlive(pid, startTicks);
}

/**
 * Liveness of a recorded process. A record of this process's own pid is alive
 * unless its start time says it belongs to an earlier process that had the
 * same pid (pid reuse); with no start time recorded it cannot be told apart.
 */
export function processAlive(pid: u32, startTicks: u64): bool {
  if (pid == selfPid) return startTicks == 0 || startTicks == selfStartTicks;
  return hostProcessAlive(<i32>pid, startTicks) != 0;
}

// The step API (every blocking export has a non-blocking twin): when a step
// returns MUST_WAIT it leaves here the word to wait on and the value to expect.
let pendingWaitAddress: u32 = 0;
let pendingWaitValue: i32 = 0;

export function requestWait(address: u32, value: i32): void {
  pendingWaitAddress = address;
  pendingWaitValue = value;
}

/** The wasm address of the futex word the last MUST_WAIT step asked to wait on. */
export function waitAddress(): u32 {
  return pendingWaitAddress;
}

/** The value that word held when the last MUST_WAIT step was decided. */
export function waitValue(): i32 {
  return pendingWaitValue;
}

/** A private word (page 0) that fullFence() updates. */
const fenceWord: usize = memory.data(8);

/**
 * A full memory barrier: plain loads and stores before it are ordered before
 * those after it. AssemblyScript's atomic.fence() does not validate with the
 * Binaryen it ships, so a sequentially consistent read-modify-write of a
 * private word stands in (a locked instruction on x86-64, an acquire/release
 * exclusive pair on AArch64). Seqlocks need it (topic/, blackboard/).
 */
// @ts-ignore: decorator
@inline export function fullFence(): void {
  atomic.add<u32>(fenceWord, 0);
}
