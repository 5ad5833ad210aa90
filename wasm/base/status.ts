// Status codes returned by every export of the core. Hot paths return these
// instead of trapping; the host maps them to its error codes. Zero is success;
// values never change meaning between layout versions.

export const OK: i32 = 0;
/** A timed operation ran out of time. */
export const TIMED_OUT: i32 = 1;
/** A `try` operation would have had to wait. */
export const WOULD_BLOCK: i32 = 2;
/** The lock was taken over from a holder whose process died. */
export const OWNER_DIED: i32 = 3;
/** A robust lock was released while inconsistent and can no longer be used. */
export const NOT_RECOVERABLE: i32 = 4;
/** The caller does not hold the lock it tried to release. */
export const NOT_OWNER: i32 = 5;
/** The step API asks the host to wait on `waitAddress()` for `waitValue()`. */
export const MUST_WAIT: i32 = 6;
/** Shared state failed a consistency or bounds check. */
export const CORRUPT: i32 = 7;
/** A directory or queue has no room. */
export const FULL: i32 = 8;
/** A queue holds nothing to take. */
export const EMPTY: i32 = 9;
/** A record or argument exceeds what the object can ever hold. */
export const TOO_LARGE: i32 = 10;
/** A semaphore post would exceed its maximum. */
export const OVERFLOW: i32 = 11;
/** No directory entry has this name. */
export const NOT_FOUND: i32 = 12;
/** A directory entry with this name exists already. */
export const EXISTS: i32 = 13;
/** A directory entry has this name but another kind. */
export const KIND_MISMATCH: i32 = 14;
/** An argument is out of its documented range. */
export const INVALID_ARGUMENT: i32 = 15;
/** The segment header does not start with the wshm magic. */
export const BAD_MAGIC: i32 = 16;
/** The segment was written by another layout version. */
export const VERSION_MISMATCH: i32 = 17;
/** The segment's creator has not finished initialising it. */
export const INITIALISING: i32 = 18;
/** The process at the other end (a channel's server or client, a ring's producer) died. */
export const PEER_DIED: i32 = 19;
/** Not returned by the core; reserved so hosts can report a closed handle with the same numbering. */
export const CLOSED: i32 = 20;
/** A channel has no server attached (never attached, or detached cleanly): the request cannot be answered. */
export const NO_SERVER: i32 = 21;
