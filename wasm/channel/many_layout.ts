// The layout of a many-client channel's client slots and the phases of a
// slot's word (the protocol: channel/many.ts; the whole channel: channel/layout.ts).
//
//  client slot (CLIENT_SLOT_HEADER + capacity, rounded up to 64)
//  0  ┌ word u32: cid << 2 | phase (the futex word the client waits on) ┐
//  4  │ sleeping u32: 1 while the client is parked on word              │
//  8  │ pid u32 │ recordPid u32 │ startTicks u64: the owning client     │
//  24 │ responseLength u32 │ responseStatus u32                        │
//  64 │ response buffer (capacity bytes)                                │
//     └──────────────────────────────────────────────────────────────────┘

// @ts-ignore: decorator
@inline export const WORD: u32 = 0;
// @ts-ignore: decorator
@inline export const SLEEPING: u32 = 4;
// @ts-ignore: decorator
@inline export const PID: u32 = 8;
// @ts-ignore: decorator
@inline export const RECORD_PID: u32 = 12;
// @ts-ignore: decorator
@inline export const START: u32 = 16;
// @ts-ignore: decorator
@inline export const RESPONSE_LENGTH: u32 = 24;
// @ts-ignore: decorator
@inline export const RESPONSE_STATUS: u32 = 28;

// @ts-ignore: decorator
@inline export const IDLE: u32 = 0;
// @ts-ignore: decorator
@inline export const WAITING: u32 = 1;
// @ts-ignore: decorator
@inline export const TAKEN: u32 = 2;
// @ts-ignore: decorator
@inline export const DONE: u32 = 3;
// @ts-ignore: decorator
@inline export const PHASE: u32 = 3;
