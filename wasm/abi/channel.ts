// The exported face of the request/response channel: each export takes a
// handle from objectOpen (segment/handles.ts) and re-derives the channel's offset and
// extent from the private handle table at the call before the protocol runs
// (channel/api.ts dispatches on the mode). A handle that is not an open
// channel gives -INVALID_ARGUMENT (or -1 / nothing).

import { KIND_CHANNEL } from "../segment/layout";
import { enterObject } from "../segment/handles";
import { INVALID_ARGUMENT } from "../base/status";
import * as api from "../channel/api";

// @ts-ignore: decorator
@inline function channelAt(handle: u32): u32 {
  return enterObject(handle, KIND_CHANNEL);
}

export function channelServerAttach(handle: u32): i32 {
  const o = channelAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : api.channelServerAttach(o);
}

export function channelServerDetach(handle: u32): void {
  const o = channelAt(handle);
  if (o != 0) api.channelServerDetach(o);
}

export function channelClientAttach(handle: u32): i32 {
  const o = channelAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : api.channelClientAttach(o);
}

export function channelClientDetach(handle: u32, slot: u32): void {
  const o = channelAt(handle);
  if (o != 0) api.channelClientDetach(o, slot);
}

export function channelAcquireStep(handle: u32, slot: u32, unused: u32, flags: u32): i32 {
  const o = channelAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : api.channelAcquireStep(o, slot, unused, flags);
}

export function channelAcquireCancel(handle: u32, slot: u32): void {
  const o = channelAt(handle);
  if (o != 0) api.channelAcquireCancel(o, slot);
}

export function channelPrepareStep(handle: u32, slot: u32, unused: u32, flags: u32): i32 {
  const o = channelAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : api.channelPrepareStep(o, slot, unused, flags);
}

export function channelPrepareCancel(handle: u32, slot: u32): void {
  const o = channelAt(handle);
  if (o != 0) api.channelPrepareCancel(o, slot);
}

export function channelBegin(handle: u32, slot: u32, timeoutMs: f64, spins: i32): i32 {
  const o = channelAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : api.channelBegin(o, slot, timeoutMs, spins);
}

export function channelPost(handle: u32, slot: u32, request: u32, length: u32): i32 {
  const o = channelAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : api.channelPost(o, slot, request, length);
}

export function channelAwaitStep(handle: u32, slot: u32, unused: u32, flags: u32): i32 {
  const o = channelAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : api.channelAwaitStep(o, slot, unused, flags);
}

export function channelAwaitCancel(handle: u32, slot: u32): void {
  const o = channelAt(handle);
  if (o != 0) api.channelAwaitCancel(o, slot);
}

export function channelAwait(handle: u32, slot: u32, timeoutMs: f64, spins: i32): i32 {
  const o = channelAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : api.channelAwait(o, slot, timeoutMs, spins);
}

export function channelSend(
  handle: u32, slot: u32, request: u32, length: u32, timeoutMs: f64, spins: i32,
): i32 {
  const o = channelAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : api.channelSend(o, slot, request, length, timeoutMs, spins);
}

export function channelEnd(handle: u32, slot: u32, request: u32): i32 {
  const o = channelAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : api.channelEnd(o, slot, request);
}

export function channelReceiveStep(handle: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const o = channelAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : api.channelReceiveStep(o, unused0, unused1, flags);
}

export function channelReceiveCancel(handle: u32, unused: u32): void {
  const o = channelAt(handle);
  if (o != 0) api.channelReceiveCancel(o, unused);
}

export function channelReceive(handle: u32, timeoutMs: f64, spins: i32): i32 {
  const o = channelAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : api.channelReceive(o, timeoutMs, spins);
}

export function channelResponseBuffer(handle: u32, token: u32): i32 {
  const o = channelAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : api.channelResponseBuffer(o, token);
}

export function channelRespond(handle: u32, token: u32, length: u32, status: u32): i32 {
  const o = channelAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : api.channelRespond(o, token, length, status);
}

export function channelRespondReceive(
  handle: u32, token: u32, length: u32, status: u32, timeoutMs: f64, spins: i32,
): i32 {
  const o = channelAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : api.channelRespondReceive(o, token, length, status, timeoutMs, spins);
}

export function channelInterrupt(handle: u32): void {
  const o = channelAt(handle);
  if (o != 0) api.channelInterrupt(o);
}

export function channelInfo(handle: u32, which: u32): f64 {
  const o = channelAt(handle);
  return o == 0 ? -1 : api.channelInfo(o, which);
}
