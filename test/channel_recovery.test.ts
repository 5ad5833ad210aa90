// Recovery windows of the channel that no host call can pause in (they lie
// inside one core call), set up deterministically by writing the state a
// process would have left when it died there, then checked end to end.

import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { decodeText, Segment } from "../ts/mod.ts";
import { cleanup, offsetOf, runtime, startProcess, uniqueName, within } from "./helpers.ts";

const test = suite(`Channel recovery (${runtime})`);

/** True while `pid` runs (a zombie, killed but not yet reaped, counts as dead, as for the core). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
test.after.each(cleanup);
test.after(cleanup);

// Offsets inside a channel and its request queue (wasm/channel/layout.ts, wasm/queue/layout.ts layouts).
const SERVER_PID = 256;
const BODY = 384;
const QUEUE_SLOTS = 4;
const QUEUE_STRIDE = 8;
const QUEUE_DEQUEUE_POS = 128;
const QUEUE_SLOTS_START = 320;
const CLASSIC_STATE = 320;

test("many-client: a server that died between dequeuing a request and marking it taken costs its client PeerDied, not its timeout", async () => {
  const name = uniqueName("chan-dequeued");
  using segment = Segment.create(name, { size: 1 << 20 });
  const channel = segment.channel("rpc", { capacity: 64, clients: 2 });
  const at = offsetOf(segment, "rpc");
  const view = segment.view();
  // A live process that stands in for the server that will die: clients see
  // a server attached and alive, so they wait instead of failing.
  const standIn = startProcess("sleep", ["60"], { label: "stand-in server", timeoutMs: 60_000 });
  try {
    view.setUint32(at + SERVER_PID, standIn.pid, true);
    const reply = channel.requestAsync("lost with its server", { timeoutMs: 20_000 }).then(
      () => "answered",
      (e) => e.code ?? String(e),
    );
    // The request is in the queue; make it READING by the stand-in, as the
    // server's dequeue would have left it (CAS of (seq, owner), then dequeuePos + 1).
    const queue = at + BODY;
    const slots = view.getUint32(queue + QUEUE_SLOTS, true);
    const stride = view.getUint32(queue + QUEUE_STRIDE, true);
    let pos = view.getUint32(queue + QUEUE_DEQUEUE_POS, true);
    let slot = queue + QUEUE_SLOTS_START + (pos & (slots - 1)) * stride;
    for (let i = 0; i < 1000 && view.getUint32(slot, true) !== pos + 1; i++) {
      await new Promise((r) => setTimeout(r, 5));
      pos = view.getUint32(queue + QUEUE_DEQUEUE_POS, true);
      slot = queue + QUEUE_SLOTS_START + (pos & (slots - 1)) * stride;
    }
    assert.is(view.getUint32(slot, true), pos + 1, "the request was committed to the queue");
    view.setUint32(slot + 4, standIn.pid, true);
    view.setUint32(queue + QUEUE_DEQUEUE_POS, pos + 1, true);
    // Kill the stand-in and attach a new server before this process's event
    // loop runs again, so the client's own liveness check (which would see
    // the dead stand-in) cannot come first: only the recovery can answer it.
    standIn.kill("SIGKILL");
    const deadline = Date.now() + 10_000;
    while (alive(standIn.pid)) {
      if (Date.now() > deadline) throw new Error("the stand-in did not die");
    }
    channel.attachServer();
    const stop = new AbortController();
    const serving = channel.serve((request) => request.text(), { signal: stop.signal });
    // Before the fix the request stayed WAITING with a live server: the client waited out its timeout.
    assert.is(await within(reply, 15_000, "the client's answer"), "PeerDied", "the lost request");
    assert.is(
      decodeText(await channel.requestAsync("next", { timeoutMs: 10_000 })),
      "next",
      "the next request is served",
    );
    stop.abort();
    await within(serving, 10_000, "serve() ends on abort");
  } finally {
    standIn.kill("SIGKILL");
  }
  segment.unlink();
});

for (const clients of [0, 2]) {
  const mode = clients === 0 ? "classic" : "many-client";
  test(`${mode}: no server attached is NoServer at once; a server that detaches fails its pending request at once`, async () => {
    const name = uniqueName("chan-noserver");
    using serverSide = Segment.create(name, { size: 1 << 20 });
    using clientSide = Segment.open(name);
    const server = serverSide.channel("rpc", { capacity: 64, clients });
    const client = clientSide.channel("rpc");
    // A Timeout instead of NoServer would mean the request waited for a server that is not there.
    const refused = await client.requestAsync("nobody", { timeoutMs: 20_000 }).then(
      () => "answered",
      (e) => e.code,
    );
    assert.is(refused, "NoServer", "no server has ever attached");
    server.attachServer();
    const pending = client.requestAsync("pending", { timeoutMs: 20_000 }).then(
      () => "answered",
      (e) => e.code,
    );
    await new Promise((r) => setTimeout(r, 50));
    server.detach();
    assert.is(await within(pending, 15_000, "the pending request"), "NoServer", "the server detached");
    let later = "answered";
    try {
      client.request("later", { timeoutMs: 20_000 });
    } catch (error) {
      later = (error as { code?: string }).code ?? String(error);
    }
    assert.is(later, "NoServer", "a request after the server detached");
    const stop = new AbortController();
    const serving = server.serve((request) => request.text(), { signal: stop.signal });
    assert.is(
      decodeText(await client.requestAsync("back", { timeoutMs: 10_000 })),
      "back",
      "a new server serves",
    );
    stop.abort();
    await within(serving, 10_000, "serve() ends on abort");
    serverSide.unlink();
  });
}

test("classic: an answer refused because the exchange was recovered is dropped, and the server handle serves on", async () => {
  const name = uniqueName("chan-refused");
  using serverSide = Segment.create(name, { size: 1 << 20 });
  using clientSide = Segment.open(name);
  const server = serverSide.channel("rpc", { capacity: 64 });
  const client = clientSide.channel("rpc");
  server.attachServer();
  const first = client.requestAsync("first", { timeoutMs: 10_000 }).then(() => "answered", (e) => e.code);
  const request = await within(server.receiveAsync({ timeoutMs: 10_000 }), 15_000, "the first request");
  // A successor that thought this server dead recovered the exchange (classic state SERVER_LOST = 4).
  serverSide.view().setUint32(offsetOf(serverSide, "rpc") + CLASSIC_STATE, 4, true);
  request.respond("too late"); // dropped: no throw, and the handle is not left mid-answer
  assert.is(
    await within(first, 15_000, "the first client"),
    "PeerDied",
    "the client of the recovered exchange",
  );
  const second = client.requestAsync("second", { timeoutMs: 10_000 });
  const next = await within(server.receiveAsync({ timeoutMs: 10_000 }), 15_000, "the next request");
  assert.is(next.text(), "second", "the server handle receives the next request");
  next.respond("ok");
  assert.is(decodeText(await within(second, 15_000, "the second answer")), "ok", "and answers it");
  serverSide.unlink();
});

test.run();
