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
  KIND_CHANNEL, KIND_TOPIC, KIND_BLACKBOARD,
} from "./segment/layout";
export {
  OK, TIMED_OUT, WOULD_BLOCK, OWNER_DIED, NOT_RECOVERABLE, NOT_OWNER, MUST_WAIT, CORRUPT, FULL,
  EMPTY, TOO_LARGE, OVERFLOW, NOT_FOUND, EXISTS, KIND_MISMATCH, INVALID_ARGUMENT, BAD_MAGIC,
  VERSION_MISMATCH, INITIALISING, PEER_DIED, CLOSED, NO_SERVER,
} from "./base/status";
export { setLivenessPollMs, setSpinLimit, waitAddress, waitValue } from "./base/context";
export {
  segmentInit, segmentAttach, segmentStatedSize, headerCheck, headerScratch, HEADER_CHECK_SIZE,
} from "./segment/segment";
export {
  nameScratch, directoryLookup, directoryCreate, entryOffset, entrySize, entryKind,
  directoryLockHolder, directoryLockHasWaiters,
} from "./segment/directory";
export { handleTable, objectOpen, handleOffset, handleSize } from "./segment/handles";
export { MUTEX_SIZE } from "./mutex/mutex";
export { SEMAPHORE_SIZE, SEMAPHORE_VALUE_MAX } from "./semaphore/semaphore";
export { RWLOCK_HEADER, RWLOCK_SLOT_SIZE, RWLOCK_DEFAULT_READERS, RWLOCK_MAX_READERS } from "./rwlock/rwlock";
export { EVENT_SIZE } from "./event/event";
export {
  mutexTryLock, mutexLockStep, mutexLockCancel, mutexLock, mutexUnlock, mutexConsistent,
  mutexHolder, mutexHasWaiters, semaphoreTryWait, semaphoreWaitStep, semaphoreWaitCancel,
  semaphoreWait, semaphorePost, semaphoreValue, semaphoreSleepers, semaphoreMaximum,
  rwlockTryRead, rwlockReadStep, rwlockRead, rwlockReadUnlock, rwlockTryWrite, rwlockWriteStep,
  rwlockLockCancel, rwlockWrite, rwlockWriteUnlock, rwlockConsistent, rwlockWriter, rwlockReaders,
  rwlockReaderSlots, eventSequence, eventNotify, eventWaitStep, eventWaitCancel, eventWait,
  eventSleepers, eventNotifies,
} from "./abi/locks";
export { WAIT_ADAPTIVE, WAIT_SPIN, STEP_PARK, STEP_REGISTERED, STEP_CHECK_PEER } from "./base/waiting";
export {
  RING_MIN_CAPACITY, RING_MAX_CAPACITY, RING_RECORD_HEADER, RING_TYPE_MAX, RING_BATCH_MAX,
  RING_DATA, ROLE_PRODUCER, ROLE_CONSUMER, ringScratch,
} from "./ring/layout";
export {
  RING_INFO_CAPACITY, RING_INFO_USED, RING_INFO_PRODUCER, RING_INFO_CONSUMER, RING_INFO_COMMITS,
  RING_INFO_READS, RING_INFO_CLAIMED, RING_INFO_UNRELEASED,
} from "./ring/consumer";
export { QUEUE_MAX_SLOTS, QUEUE_MAX_SLOT_SIZE, QUEUE_TYPE_MAX, QUEUE_SLOT_HEADER, queueScratch } from "./queue/layout";
export {
  QUEUE_INFO_SLOTS, QUEUE_INFO_SLOT_SIZE, QUEUE_INFO_ENQUEUED, QUEUE_INFO_DEQUEUED,
} from "./queue/wait";
export {
  ringMaxPayload, ringAttach, ringDetach, ringClaim, ringClaimMany, ringClaimStep, ringClaimWait,
  ringCancelWait, ringAbort, ringCommit, ringRead, ringReadMany, ringReadStep, ringReadWait,
  ringRelease, ringInfo, queueClaim, queueCommit, queueAbort, queueRead, queueRelease,
  queueClaimStep, queueReadStep, queueClaimWait, queueReadWait, queueCancelWait, queueInterrupt,
  queueInfo,
} from "./abi/queues";
export {
  CHANNEL_MAX_CAPACITY, CHANNEL_MAX_CLIENTS, CHANNEL_STATUS_OK, CHANNEL_STATUS_FAILED,
  CHANNEL_STATUS_SERVER_DIED, CHANNEL_STATUS_NO_SERVER, CHANNEL_STATUS_TIMED_OUT, CHANNEL_STATUS_UNAVAILABLE,
  channelScratch,
} from "./channel/layout";
export {
  CHANNEL_INFO_CAPACITY, CHANNEL_INFO_CLIENTS, CHANNEL_INFO_SERVER, CHANNEL_INFO_SERVED,
  CHANNEL_INFO_ATTACHED, CHANNEL_INFO_ACCESS_HOLDER, CHANNEL_INFO_STATE,
} from "./channel/api";
export {
  channelServerAttach, channelServerDetach, channelClientAttach, channelClientDetach,
  channelAcquireStep, channelAcquireCancel, channelPrepareStep, channelPrepareCancel, channelBegin,
  channelPost, channelAwaitStep, channelAwaitCancel, channelAwait, channelSend, channelEnd, channelReceiveStep,
  channelReceiveCancel, channelReceive, channelResponseBuffer, channelRespond, channelRespondReceive,
  channelInterrupt,
  channelInfo,
} from "./abi/channel";
export {
  TOPIC_MAX_MESSAGE, TOPIC_MAX_DEPTH, TOPIC_MIN_DEPTH, TOPIC_MAX_SUBSCRIBERS, TOPIC_TYPE_MAX,
  TOPIC_POLICY_BLOCK, TOPIC_POLICY_OVERWRITE, TOPIC_SLOT_HEADER, topicScratch,
} from "./topic/layout";
export {
  TOPIC_INFO_MAX_MESSAGE, TOPIC_INFO_DEPTH, TOPIC_INFO_SUBSCRIBERS, TOPIC_INFO_HISTORY,
  TOPIC_INFO_POLICY, TOPIC_INFO_PUBLISHER, TOPIC_INFO_HEAD, TOPIC_INFO_SUBSCRIBER_PID,
  TOPIC_INFO_SUBSCRIBER_CURSOR, TOPIC_INFO_SUBSCRIBER_MISSED, TOPIC_INFO_SUBSCRIBER_RECEIVED,
  TOPIC_INFO_PUBLISHED,
} from "./topic/subscriber";
export {
  topicPublisherAttach, topicPublisherDetach, topicLoan, topicLoanStep, topicLoanWait, topicPublish,
  topicAbort, topicSubscriberAttach, topicSubscriberDetach, topicRead, topicReadStep, topicReadWait,
  topicCancelWait, topicRelease, topicInfo, topicChangeWord, topicPollStep,
} from "./abi/topic";
export { ringPollStep, queuePollStep } from "./abi/poll";
export {
  BLACKBOARD_MAX_KEYS, BLACKBOARD_KEY_NAME_MAX, BLACKBOARD_MAX_VALUE, BLACKBOARD_KEY_SCRATCH_SIZE,
  BLACKBOARD_BUFFER_HEADER, BLACKBOARD_KEYS_START, blackboardKeyScratch, blackboardScratch,
} from "./blackboard/layout";
export {
  BLACKBOARD_ANY_KEY, BLACKBOARD_READ_ATTEMPTS, BLACKBOARD_INFO_KEYS, BLACKBOARD_INFO_MAX_VALUE,
  BLACKBOARD_INFO_GENERATION,
} from "./blackboard/read";
export {
  blackboardGeneration, blackboardLocate, blackboardVerify, blackboardVersion, blackboardChangeWord,
  blackboardWaitStep, blackboardWaitCancel, blackboardWait, blackboardKeyName, blackboardInfo,
  blackboardTryClaim, blackboardClaimStep, blackboardClaimCancel, blackboardClaim, blackboardStage,
  blackboardCommit, blackboardAbort, blackboardWriter,
} from "./abi/blackboard";
