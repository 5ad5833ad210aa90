// Creating and attaching a segment: the creation handshake and the checks an
// opener makes before it trusts anything in a segment.
//
// The creator maps a fresh, zero-filled segment, calls segmentInit, which
// writes every header field, then the magic, then (release) STATE_READY. An
// opener calls segmentAttach with the size the host mapped (fstat's size); it
// returns INITIALISING while the creator is still at work, so the host can
// wait, bounded, and call again.

import {
  DIR_CAPACITY, HEADER_ALLOC_TOP, HEADER_CREATED_MS, HEADER_CREATOR_PID, HEADER_CREATOR_START,
  HEADER_DIR_CAPACITY, HEADER_DIR_LOCK, HEADER_MAGIC, HEADER_SEGMENT_SIZE, HEADER_SIZE,
  HEADER_STATE, HEADER_VERSION, LAYOUT_VERSION, MAGIC, PAGE_SIZE, SEGMENT_BASE, SEGMENT_MAX_SIZE,
  SEGMENT_MIN_SIZE, STATE_INITIALISING, STATE_READY,
} from "./layout";
import { setIdentity, setSegmentEnd } from "../base/context";
import { mutexInit } from "../mutex/mutex";
import { directoryValidate } from "./directory";
import {
  BAD_MAGIC, CORRUPT, INITIALISING, INVALID_ARGUMENT, OK, VERSION_MISMATCH,
} from "../base/status";

function validSize(size: u64): bool {
  return size >= SEGMENT_MIN_SIZE && size <= SEGMENT_MAX_SIZE && size % PAGE_SIZE == 0;
}

/** Writes the header of a new, zero-filled segment of `size` bytes and marks it ready. */
export function segmentInit(size: u32, pid: u32, startTicks: u64, createdEpochMs: f64): i32 {
  if (!validSize(size)) return INVALID_ARGUMENT;
  setIdentity(pid, startTicks);
  setSegmentEnd(SEGMENT_BASE + size);
  const h = SEGMENT_BASE;
  store<u64>(h + HEADER_SEGMENT_SIZE, size);
  store<u32>(h + HEADER_CREATOR_PID, pid);
  store<u64>(h + HEADER_CREATOR_START, startTicks);
  store<f64>(h + HEADER_CREATED_MS, createdEpochMs);
  store<u32>(h + HEADER_ALLOC_TOP, HEADER_SIZE);
  store<u32>(h + HEADER_DIR_CAPACITY, DIR_CAPACITY);
  mutexInit(HEADER_DIR_LOCK);
  store<u32>(h + HEADER_VERSION, LAYOUT_VERSION);
  atomic.store<u32>(h + HEADER_MAGIC, MAGIC);
  // SYNC: release; an opener that reads READY (acquire) sees the whole header.
  atomic.store<u32>(h + HEADER_STATE, STATE_READY);
  return OK;
}

/** How many header bytes headerCheck reads: the fixed fields, up to the directory lock. */
export const HEADER_CHECK_SIZE: u32 = HEADER_DIR_LOCK;

/**
 * Private scratch (page 0) where a host that has not mapped a segment yet
 * (Segment.open before it maps, `wshm ls` for every file) copies the first
 * HEADER_CHECK_SIZE bytes of the file for headerCheck.
 */
export const headerScratch: usize = memory.data(HEADER_CHECK_SIZE);

/**
 * The one check of a header, wherever its bytes are (at `h`: the mapped
 * segment or the scratch), for a file of `fileSize` bytes: OK (ready),
 * INITIALISING (its creator is still writing it, or the file is empty: ask
 * again later), BAD_MAGIC, VERSION_MISMATCH, or CORRUPT (a state, size or
 * directory capacity that no wshm writes, or a stated size other than the
 * file's).
 */
function checkHeaderAt(h: usize, fileSize: u64): i32 {
  if (fileSize == 0) return INITIALISING;
  if (fileSize < <u64>HEADER_CHECK_SIZE) return BAD_MAGIC;
  const magic = atomic.load<u32>(h + HEADER_MAGIC);
  if (magic == 0) return INITIALISING;
  if (magic != MAGIC) return BAD_MAGIC;
  if (load<u32>(h + HEADER_VERSION) != LAYOUT_VERSION) return VERSION_MISMATCH;
  // SYNC: acquire; pairs with the release of STATE_READY in segmentInit.
  const state = atomic.load<u32>(h + HEADER_STATE);
  if (state == STATE_INITIALISING) return INITIALISING;
  if (state != STATE_READY) return CORRUPT;
  const size = load<u64>(h + HEADER_SEGMENT_SIZE);
  if (!validSize(size) || size != fileSize) return CORRUPT;
  if (load<u32>(h + HEADER_DIR_CAPACITY) != DIR_CAPACITY) return CORRUPT;
  return OK;
}

/**
 * Checks the header bytes a host copied into headerScratch from a file of
 * `fileSize` bytes, before mapping it: the results of segmentAttach's header
 * check (OK, INITIALISING, BAD_MAGIC, VERSION_MISMATCH, CORRUPT). The size to
 * map is then the file's (which the header states, when OK).
 */
export function headerCheck(fileSize: f64): i32 {
  if (!(fileSize >= 0) || fileSize > <f64>u64.MAX_VALUE) return INVALID_ARGUMENT;
  return checkHeaderAt(headerScratch, <u64>fileSize);
}

/**
 * Checks a segment of which the host mapped `mappedSize` bytes at SEGMENT_BASE,
 * and adopts it for this instance: OK, INITIALISING (ask again later),
 * BAD_MAGIC, VERSION_MISMATCH or CORRUPT. Reads nothing past `mappedSize`.
 */
export function segmentAttach(mappedSize: u32, pid: u32, startTicks: u64): i32 {
  setIdentity(pid, startTicks);
  if (mappedSize != 0 && mappedSize < HEADER_SIZE) return BAD_MAGIC;
  const header = checkHeaderAt(SEGMENT_BASE, mappedSize);
  if (header != OK) return header;
  setSegmentEnd(SEGMENT_BASE + mappedSize);
  const status = directoryValidate();
  if (status != OK) setSegmentEnd(SEGMENT_BASE);
  return status;
}

/** The size the header states (bytes), read without trusting it. */
export function segmentStatedSize(): f64 {
  return <f64>load<u64>(SEGMENT_BASE + HEADER_SEGMENT_SIZE);
}
