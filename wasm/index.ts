// The wshm core: every lock and queue protocol over a shared segment mapped at
// wasm page 1. This file only gathers the exports; docs/ABI.md describes them.

export {
  SEGMENT_BASE, CACHE_LINE, MAGIC, LAYOUT_VERSION, STATE_INITIALISING, STATE_READY,
  HEADER_MAGIC, HEADER_VERSION, HEADER_STATE, HEADER_SEGMENT_SIZE, HEADER_CREATOR_PID,
  HEADER_CREATOR_START, HEADER_CREATED_MS, HEADER_ALLOC_TOP, HEADER_DIR_CAPACITY,
  HEADER_OBJECT_COUNT, HEADER_DIR_LOCK, HEADER_DIRECTORY, HEADER_SIZE, DIR_ENTRY_SIZE,
  DIR_CAPACITY, ENTRY_STATE, ENTRY_KIND, ENTRY_OFFSET, ENTRY_SIZE, ENTRY_NAME_LENGTH, ENTRY_NAME,
  NAME_MAX, ENTRY_FREE, ENTRY_READY, SEGMENT_MIN_SIZE, SEGMENT_MAX_SIZE, PAGE_SIZE,
  KIND_BYTES, KIND_MUTEX, KIND_SEMAPHORE, KIND_RWLOCK, KIND_EVENT, KIND_RING, KIND_QUEUE,
  KIND_CHANNEL,
} from "./layout";
export {
  OK, TIMED_OUT, WOULD_BLOCK, OWNER_DIED, NOT_RECOVERABLE, NOT_OWNER, MUST_WAIT, CORRUPT, FULL,
  EMPTY, TOO_LARGE, OVERFLOW, NOT_FOUND, EXISTS, KIND_MISMATCH, INVALID_ARGUMENT, BAD_MAGIC,
  VERSION_MISMATCH, INITIALISING, PEER_DIED, CLOSED,
} from "./status";
export { setLivenessPollMs, setSpinLimit, waitAddress, waitValue } from "./context";
export { segmentInit, segmentAttach, segmentStatedSize } from "./segment";
export {
  nameScratch, directoryLookup, directoryCreate, entryOffset, entrySize, entryKind,
} from "./directory";
export {
  MUTEX_SIZE, mutexTryLock, mutexLockStep, mutexLock, mutexUnlock, mutexConsistent, mutexHolder,
  mutexHasWaiters,
} from "./mutex";
export {
  SEMAPHORE_SIZE, SEMAPHORE_VALUE_MAX, semaphoreTryWait, semaphoreWaitStep, semaphoreCancelWait,
  semaphoreWait, semaphorePost, semaphoreValue, semaphoreSleepers, semaphoreMaximum,
} from "./semaphore";
