/**
 * wshm: shared-memory IPC for Deno, Node and Bun, with every protocol in one
 * WebAssembly core mapped onto a real POSIX shared-memory segment.
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
 * using segment = Segment.create("/hello", { size: 1 << 20 });
 * using held = segment.mutex("lock").lock();
 * segment.unlink();
 * ```
 *
 * @module
 */

export { Segment } from "./segment.ts";
export type {
  CreateOptions,
  ObjectInfo,
  ObjectOptions,
  OpenOptions,
  WaitingObjectOptions,
} from "./segment.ts";
export { Mutex, MutexGuard } from "./mutex.ts";
export type { LockOptions } from "./mutex.ts";
export { Semaphore, SemaphorePermit } from "./semaphore.ts";
export type { SemaphoreOptions } from "./semaphore.ts";
export { RwLock, RwLockReadGuard, RwLockWriteGuard } from "./rwlock.ts";
export type { RwLockOptions } from "./rwlock.ts";
export { Event } from "./event.ts";
export { Blackboard, BlackboardValue } from "./blackboard.ts";
export type {
  BlackboardEntries,
  BlackboardOptions,
  BlackboardReadOptions,
  BlackboardWaitOptions,
} from "./blackboard.ts";
export { Ring, RingRecord } from "./ring.ts";
export type { RingOptions, RingSendOptions, RingStats, RingWaitOptions } from "./ring.ts";
export { Queue, QueueMessage } from "./queue.ts";
export type { QueueOptions, QueueSendOptions, QueueStats, QueueWaitOptions } from "./queue.ts";
export { Topic, TopicMessage, TopicSubscriber } from "./topic.ts";
export type {
  TopicOptions,
  TopicPolicy,
  TopicPublishOptions,
  TopicStats,
  TopicSubscriberStats,
  TopicWaitOptions,
} from "./topic.ts";
export { WaitSet } from "./wait_set.ts";
export { BroadcastChannel } from "./broadcast.ts";
export { discover, waitForService } from "./discovery.ts";
export type {
  DiscoverOptions,
  Discovery,
  DiscoveryProblem,
  ServiceInfo,
  ServiceParty,
  WaitForServiceOptions,
} from "./discovery.ts";
export type { BroadcastChannelOptions } from "./broadcast.ts";
export type { WaitSetAsyncOptions, WaitSetOptions, WaitSource } from "./wait_set.ts";
export { Channel } from "./channel.ts";
export type {
  ChannelCallOptions,
  ChannelOptions,
  ChannelReceiveOptions,
  ChannelStats,
  ServeOptions,
} from "./channel_types.ts";
export { ChannelCall } from "./channel_call.ts";
export { ChannelRequest } from "./channel_request.ts";
export type { ChannelHandler } from "./channel_request.ts";
export {
  decodeJson,
  decodeText,
  encodeJson,
  encodeText,
  messageLength,
  utf8Length,
  writeText,
} from "./codec.ts";
export type { Message } from "./codec.ts";
export type { WaitMode } from "./wait.ts";
export { WshmError } from "./errors.ts";
export type { ArgumentError, WshmErrorCode } from "./errors.ts";
export type { TrustOwner } from "./trust.ts";
