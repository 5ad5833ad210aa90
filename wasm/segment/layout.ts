// The segment layout: the one place that names every offset of the header and
// the directory. Offsets inside each object are named in that object's file.
// The host reads these through the module's exported globals (see index.ts);
// nobody copies them by hand.
//
// A segment is mapped at wasm address SEGMENT_BASE (page 1). Page 0 stays
// private to each process: it holds this module's static data, which every
// instantiation re-applies, so it must never be shared.
//
//  segment offset
//  0    ┌──────────────────────────────────────────────────────────────┐
//       │ magic u32 │ version u32 │ state u32 │ reserved u32          │
//  16   │ segmentSize u64          │ creatorPid u32 │ reserved u32     │
//  32   │ creatorStartTicks u64    │ createdEpochMs f64               │
//  48   │ allocTop u32 │ dirCapacity u32 │ objectCount u32 │ pad ...   │
//  64   ├──────────────────────────────────────────────────────────────┤
//       │ directory lock: a robust mutex (own cache line)              │
//  128  ├──────────────────────────────────────────────────────────────┤
//       │ directory: DIR_CAPACITY entries of DIR_ENTRY_SIZE bytes       │
//  4096 ├──────────────────────────────────────────────────────────────┤
//       │ objects, each CACHE_LINE aligned, allocated upwards          │
//       └──────────────────────────────────────────────────────────────┘
//
// Directory entry (64 bytes):
//  0 state u32 │ 4 kind u32 │ 8 offset u32 │ 12 size u32 │ 16 nameLength u32 │
//  20 reserved │ 24 name: NAME_MAX bytes of UTF-8
//
// Creation handshake: the creator writes every field with the state
// INITIALISING and the magic last but one, then stores READY. An opener that
// sees magic 0 or INITIALISING waits (bounded) and looks again.

export const SEGMENT_BASE: u32 = 65536;

/** The wasm address of segment offset `offset`: how every protocol reaches its object's fields. */
// @ts-ignore: decorator
@inline export function at(offset: u32): u32 {
  return SEGMENT_BASE + offset;
}
export const CACHE_LINE: u32 = 64;

export const MAGIC: u32 = 0x4D485357; // "WSHM" read as little-endian bytes
export const LAYOUT_VERSION: u32 = 5;

export const STATE_INITIALISING: u32 = 0;
export const STATE_READY: u32 = 1;

export const HEADER_MAGIC: u32 = 0;
export const HEADER_VERSION: u32 = HEADER_MAGIC + 4;
export const HEADER_STATE: u32 = HEADER_VERSION + 4;
export const HEADER_SEGMENT_SIZE: u32 = 16;
export const HEADER_CREATOR_PID: u32 = HEADER_SEGMENT_SIZE + 8;
export const HEADER_CREATOR_START: u32 = 32;
export const HEADER_CREATED_MS: u32 = HEADER_CREATOR_START + 8;
export const HEADER_ALLOC_TOP: u32 = 48;
export const HEADER_DIR_CAPACITY: u32 = HEADER_ALLOC_TOP + 4;
export const HEADER_OBJECT_COUNT: u32 = HEADER_DIR_CAPACITY + 4;
export const HEADER_DIR_LOCK: u32 = 64;
export const HEADER_DIRECTORY: u32 = HEADER_DIR_LOCK + CACHE_LINE;

export const DIR_ENTRY_SIZE: u32 = 64;
export const DIR_CAPACITY: u32 = 62;
export const HEADER_SIZE: u32 = HEADER_DIRECTORY + DIR_CAPACITY * DIR_ENTRY_SIZE; // 4096

export const ENTRY_STATE: u32 = 0;
export const ENTRY_KIND: u32 = ENTRY_STATE + 4;
export const ENTRY_OFFSET: u32 = ENTRY_KIND + 4;
export const ENTRY_SIZE: u32 = ENTRY_OFFSET + 4;
export const ENTRY_NAME_LENGTH: u32 = ENTRY_SIZE + 4;
export const ENTRY_NAME: u32 = 24;
export const NAME_MAX: u32 = DIR_ENTRY_SIZE - ENTRY_NAME; // 40 bytes

export const ENTRY_FREE: u32 = 0;
export const ENTRY_READY: u32 = 1;

/** Smallest and largest segment (bytes); sizes are whole 64 KiB pages. */
export const SEGMENT_MIN_SIZE: u32 = 65536;
export const SEGMENT_MAX_SIZE: u32 = 1 << 30;
export const PAGE_SIZE: u32 = 65536;

// Object kinds stored in directory entries. A kind is never renumbered.
export const KIND_BYTES: u32 = 1;
export const KIND_MUTEX: u32 = 2;
export const KIND_SEMAPHORE: u32 = 3;
export const KIND_RWLOCK: u32 = 4;
export const KIND_EVENT: u32 = 5;
export const KIND_RING: u32 = 6;
export const KIND_QUEUE: u32 = 7;
export const KIND_CHANNEL: u32 = 8;
export const KIND_TOPIC: u32 = 9;
export const KIND_BLACKBOARD: u32 = 10;
export const KIND_MAX: u32 = 10;
