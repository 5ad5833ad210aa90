import { suite } from "uvu";
import * as assert from "uvu/assert";
import { decodeText, Segment, writeText } from "../ts/mod.ts";
import {
  type Child,
  cleanup,
  offsetOf,
  runFixture,
  runtime,
  RUNTIMES,
  startFixture,
  throwsCode,
  uniqueName,
  within,
} from "./helpers.ts";

const test = suite(`Channel (${runtime})`);
test.after.each(cleanup);
test.after(cleanup);

const others = RUNTIMES.filter((rt) => rt !== runtime);
const next = (i: number) => RUNTIMES[(RUNTIMES.indexOf(runtime) + i) % RUNTIMES.length];

function reversed(text: string): string {
  return [...text].reverse().join("");
}

/** Starts a server fixture and waits until it serves. */
async function server(
  rt: string,
  name: string,
  channel: string,
  mode = "sync",
  wait = "adaptive",
): Promise<Child> {
  const child = startFixture(rt as never, "channel_server", [name, channel, mode, wait], 240_000);
  await child.line(/serving/, 30_000);
  return child;
}

async function stop(segment: Segment, channel: string, child: Child): Promise<void> {
  assert.is(decodeText(await segment.channel(channel).requestAsync("stop", { timeoutMs: 10_000 })), "bye");
  const result = await within(child.done, 30_000, "server exit");
  assert.is(result.code, 0, `server output: ${result.stdout}${result.stderr}`);
}

test("classic: a server of another runtime answers 2,000 requests of 0 to 4096 bytes from this process", async () => {
  const name = uniqueName("chan-classic");
  using segment = Segment.create(name, { size: 1 << 20 });
  const channel = segment.channel("rpc", { capacity: 4096 });
  const child = await server(others[0], name, "rpc");
  const message = new Uint8Array(4096);
  for (let i = 0; i < 2000; i++) {
    const length = (i * 7919) % 4097;
    for (let j = 0; j < length; j++) message[j] = (i + j * 3 + 1) & 255;
    if (length > 0) message[0] = 0xFF;
    const reply = channel.request(message.subarray(0, length), { timeoutMs: 10_000 });
    assert.is(reply.length, length);
    for (let j = 0; j < length; j++) {
      if (reply[j] !== message[length - 1 - j]) assert.unreachable(`request ${i}, byte ${j}`);
    }
  }
  assert.is(decodeText(channel.request("abc", { timeoutMs: 10_000 })), "cba");
  const stats = channel.stats();
  assert.is(stats.mode, "classic");
  assert.is(stats.serverPid, child.pid);
  assert.is(stats.served, 2001);
  // Who holds access is the access mutex's word: this process while a call is open, nobody after.
  assert.is(stats.accessHolderPid, 0);
  const call = channel.begin({ timeoutMs: 10_000 });
  assert.is(channel.stats().accessHolderPid, process.pid);
  call.end();
  assert.is(channel.stats().accessHolderPid, 0);
  await stop(segment, "rpc", child);
  segment.unlink();
});

test("classic: client processes of the other runtimes, sync, async and zero-copy, against a server of this one's neighbour", async () => {
  const name = uniqueName("chan-modes");
  using segment = Segment.create(name, { size: 1 << 20 });
  segment.channel("rpc", { capacity: 1024 });
  const child = await server(next(1), name, "rpc", "zero");
  const clients = [
    runFixture(others[0], "channel_client", [name, "rpc", "500", "1", "sync", "adaptive"], 120_000),
    runFixture(
      others[1] ?? others[0],
      "channel_client",
      [name, "rpc", "500", "2", "async", "adaptive"],
      120_000,
    ),
    runFixture(next(0), "channel_client", [name, "rpc", "500", "3", "zero", "park"], 120_000),
  ];
  const outputs = await within(Promise.all(clients), 150_000, "classic clients");
  for (const [i, out] of outputs.entries()) assert.match(out, new RegExp(`ok ${i + 1} 500`));
  await stop(segment, "rpc", child);
  segment.unlink();
});

test("spin, park and adaptive waits each complete exchanges across processes", async () => {
  const name = uniqueName("chan-wait");
  using segment = Segment.create(name, { size: 1 << 20 });
  for (const wait of ["spin", "park", "adaptive"] as const) {
    const channel = segment.channel(`rpc-${wait}`, { capacity: 256, wait });
    const child = await server(others[0], name, `rpc-${wait}`, "sync", wait);
    for (let i = 0; i < 200; i++) {
      assert.is(decodeText(channel.request(`m${i}`, { timeoutMs: 10_000 })), reversed(`m${i}`));
    }
    for (let i = 0; i < 50; i++) {
      assert.is(decodeText(await channel.requestAsync(`a${i}`, { timeoutMs: 10_000 })), reversed(`a${i}`));
    }
    await stop(segment, `rpc-${wait}`, child);
  }
  segment.unlink();
});

test("respondAndReceive: a server that answers and takes the next request in one call serves clients of every runtime, classic and many-client", async () => {
  const name = uniqueName("chan-fused");
  using segment = Segment.create(name, { size: 4 << 20 });
  segment.channel("classic", { capacity: 512 });
  segment.channel("many", { capacity: 512, clients: 4 });
  const servers = [
    await server(others[0], name, "classic", "fused"),
    await server(next(1), name, "many", "fused"),
  ];
  const clients = [
    runFixture(next(0), "channel_client", [name, "classic", "400", "1", "sync", "adaptive"], 120_000),
    runFixture(
      others[1] ?? others[0],
      "channel_client",
      [name, "classic", "400", "2", "zero", "park"],
      120_000,
    ),
    ...RUNTIMES.map((rt, i) =>
      runFixture(rt, "channel_client", [
        name,
        "many",
        "400",
        String(i + 3),
        ["sync", "async", "zero"][i],
        "adaptive",
      ], 120_000)
    ),
  ];
  const outputs = await within(Promise.all(clients), 150_000, "clients of the fused servers");
  for (const [i, out] of outputs.entries()) assert.match(out, new RegExp(`ok ${i + 1} 400`));
  assert.is(segment.channel("classic").stats().served, 800);
  assert.is(segment.channel("many").stats().served, 1200);
  await stop(segment, "classic", servers[0]);
  await stop(segment, "many", servers[1]);
  segment.unlink();
});

test("respondAndReceive: the answer is given before the wait; misuse is refused before anything is sent", async () => {
  using segment = Segment.create(uniqueName("chan-fused-misuse"), { size: 1 << 20 });
  const channel = segment.channel("echo", { capacity: 16 });
  const other = segment.channel("other", { capacity: 16 });
  const reply = channel.requestAsync("hi", { timeoutMs: 5000 });
  const request = await channel.receiveAsync({ timeoutMs: 5000 });
  throwsCode(() => channel.respondAndReceive(request, 17, { timeoutMs: 10 }), "TooLarge", "past capacity");
  const otherReply = other.requestAsync("x", { timeoutMs: 5000 });
  const foreign = await other.receiveAsync({ timeoutMs: 5000 });
  assert.throws(
    () => channel.respondAndReceive(foreign, 1, { timeoutMs: 10 }),
    (e: Error) => e instanceof TypeError,
  );
  assert.throws(
    () => channel.respondAndReceive(request, 1, { timeoutMs: -1 }),
    (e: Error) => e instanceof RangeError,
  );
  assert.not.ok(request.responded, "nothing was answered by the refused calls");
  const n = writeText(request.response, "HI");
  const started = performance.now();
  throwsCode(() => channel.respondAndReceive(request, n, { timeoutMs: 20 }), "Timeout", "no next request");
  assert.ok(performance.now() - started >= 19, "it waited for a next request");
  assert.ok(request.responded);
  assert.is(decodeText(await reply), "HI");
  assert.throws(
    () => channel.respondAndReceive(request, 1, { timeoutMs: 10 }),
    (e: Error) => e instanceof RangeError && (e as { code?: string }).code === "InvalidArgument",
  );
  foreign.respond("y");
  assert.is(decodeText(await otherReply), "y");
  segment.unlink();
});

test("many-client: two async receives parked at once each hand out their own request, and every client gets its own answer", async () => {
  const name = uniqueName("chan-two-receives");
  using segment = Segment.create(name, { size: 4 << 20 });
  const channel = segment.channel("rpc", { capacity: 512, clients: 4, wait: "park" });
  channel.attachServer();
  const clients = [1, 2, 3].map((id) =>
    runFixture(RUNTIMES[id % RUNTIMES.length], "channel_client", [
      name,
      "rpc",
      "60",
      String(id),
      "sync",
      "park",
    ], 120_000)
  );
  let done = false;
  let pendingAtOnce = 0;
  const outstanding = new Set<object>();
  const copy = new Uint8Array(512);
  // Two loops, each with a receive pending (parked off-thread) while the other's is too.
  const loop = async () => {
    while (true) {
      let request;
      try {
        request = await channel.receiveAsync({ timeoutMs: 1500 });
      } catch (error) {
        if (done && (error as { code?: string }).code === "Timeout") return;
        throw error;
      }
      assert.not.ok(outstanding.has(request), "a request handed to two receives");
      outstanding.add(request);
      pendingAtOnce = Math.max(pendingAtOnce, outstanding.size);
      const n = request.length;
      copy.set(request.bytes);
      const response = request.response;
      for (let i = 0; i < n; i++) response[i] = copy[n - 1 - i];
      // Hold the answer until the other loop holds a request too (the other
      // clients keep sending meanwhile), for at most 20 ms.
      for (let waited = 0; outstanding.size < 2 && waited < 20; waited++) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      outstanding.delete(request);
      request.respondWith(n);
    }
  };
  const loops = [loop(), loop()];
  const outputs = await within(Promise.all(clients), 150_000, "clients");
  done = true;
  await within(Promise.all(loops), 30_000, "the serving loops");
  for (const [i, out] of outputs.entries()) assert.match(out, new RegExp(`ok ${i + 1} 60`));
  assert.is(channel.stats().served, 180);
  assert.ok(pendingAtOnce === 2, `two requests were held at once (${pendingAtOnce})`);
  segment.unlink();
});

test("many-client: client processes of every runtime at once against one server, each gets its own responses", async () => {
  const name = uniqueName("chan-many");
  using segment = Segment.create(name, { size: 4 << 20 });
  const channel = segment.channel("rpc", { capacity: 2048, clients: 8 });
  const child = await server(others[0], name, "rpc", "async");
  const clients = RUNTIMES.map((rt, i) =>
    runFixture(rt, "channel_client", [
      name,
      "rpc",
      "1000",
      String(i + 1),
      ["sync", "async", "zero"][i],
      "adaptive",
    ], 120_000)
  );
  // This process is a client too, at the same time.
  for (let i = 0; i < 200; i++) {
    assert.is(
      decodeText(await channel.requestAsync(`parent ${i}`, { timeoutMs: 10_000 })),
      reversed(`parent ${i}`),
    );
  }
  const outputs = await within(Promise.all(clients), 150_000, "many clients");
  for (const [i, out] of outputs.entries()) assert.match(out, new RegExp(`ok ${i + 1} 1000`));
  const stats = channel.stats();
  assert.is(stats.mode, "many-client");
  assert.is(stats.clients, 8);
  assert.is(stats.attachedClients, 1, "the clients that exited gave their slots back");
  await stop(segment, "rpc", child);
  segment.unlink();
});

for (const clients of [0, 4]) {
  const mode = clients === 0 ? "classic" : "many-client";

  test(`${mode}: a client killed mid-exchange wedges neither the server nor the next client`, async () => {
    const name = uniqueName("chan-client-dies");
    using segment = Segment.create(name, { size: 1 << 20 });
    const channel = segment.channel("rpc", { capacity: 256, clients });
    const child = await server(others[0], name, "rpc");
    const holders: Child[] = [];
    try {
      // Killed inside an exchange before it posted (classic: holding access; many-client:
      // holding a claimed request slot of the queue).
      const holder = startFixture(others[1] ?? others[0], "channel_hold", [name, "rpc", "access"], 60_000);
      holders.push(holder);
      await holder.line(/holding/);
      holder.kill("SIGKILL");
      await holder.done;
      assert.is(
        decodeText(await channel.requestAsync("after access", { timeoutMs: 10_000 })),
        reversed("after access"),
      );
      // Killed while the server works on its request: the answer must not reach the next client.
      const slow = startFixture(others[1] ?? others[0], "channel_hold", [name, "rpc", "slow"], 60_000);
      holders.push(slow);
      await slow.line(/posting/);
      await new Promise((resolve) => setTimeout(resolve, 300));
      slow.kill("SIGKILL");
      await slow.done;
      for (let i = 0; i < 20; i++) {
        assert.is(
          decodeText(await channel.requestAsync(`next ${i}`, { timeoutMs: 10_000 })),
          reversed(`next ${i}`),
        );
      }
      await stop(segment, "rpc", child);
    } finally {
      for (const holder of holders) holder.kill("SIGKILL");
      child.kill("SIGKILL");
    }
    segment.unlink();
  });

  test(`${mode}: a server killed mid-exchange gives the client PeerDied, and a new server takes over`, async () => {
    const name = uniqueName("chan-server-dies");
    using segment = Segment.create(name, { size: 1 << 20 });
    const channel = segment.channel("rpc", { capacity: 256, clients });
    const child = await server(others[0], name, "rpc");
    const pending = channel.requestAsync("hang", { timeoutMs: 30_000 }).then(
      () => "answered",
      (error) => error.code,
    );
    await child.line(/hanging/);
    child.kill("SIGKILL");
    assert.is(
      await within(pending, 20_000, "PeerDied"),
      "PeerDied",
      "the waiting client learns of the death",
    );
    await child.done;
    const replacement = await server(others[1] ?? others[0], name, "rpc");
    assert.match(
      await replacement.line(/serving/),
      /serving true/,
      "the new server took over from the dead one",
    );
    assert.is(decodeText(await channel.requestAsync("again", { timeoutMs: 10_000 })), reversed("again"));

    // A client that gave up (Timeout) on a server that then died: the next server repairs the
    // exchange the dead one left, so it is not wedged for later clients.
    const gaveUp = await channel.requestAsync("hang", { timeoutMs: 300 }).then(
      () => "answered",
      (e) => e.code,
    );
    assert.is(gaveUp, "Timeout");
    await replacement.line(/hanging/);
    replacement.kill("SIGKILL");
    await replacement.done;
    const third = await server(others[0], name, "rpc");
    assert.is(decodeText(await channel.requestAsync("third", { timeoutMs: 10_000 })), reversed("third"));
    await stop(segment, "rpc", third);
    segment.unlink();
  });
}

test("documented results: TooLarge, NoServer at once with no server, RemoteError, Exists, NoSpace", async () => {
  const name = uniqueName("chan-results");
  using segment = Segment.create(name, { size: 1 << 20 });
  const classic = segment.channel("classic", { capacity: 16 });
  throwsCode(
    () => classic.request(new Uint8Array(17), { timeoutMs: 10 }),
    "TooLarge",
    "a request past capacity",
  );
  // A Timeout here would mean the request waited for a server that is not there.
  throwsCode(() => classic.request("nobody serves", { timeoutMs: 5000 }), "NoServer", "no server");
  throwsCode(() => classic.request("nobody serves"), "NoServer", "no server, no timeout given");
  throwsCode(
    () => classic.request("still nobody", { timeoutMs: 30 }),
    "NoServer",
    "the refused request does not wedge",
  );

  const child = await server(others[0], name, "classic");
  assert.is(decodeText(classic.request("x", { timeoutMs: 10_000 })), "x", "served once a server came");
  throwsCode(() => classic.request("fail", { timeoutMs: 10_000 }), "RemoteError", "the handler failed");
  throwsCode(() => classic.attachServer(), "Exists", "a second live server");
  await stop(segment, "classic", child);

  const many = segment.channel("many", { capacity: 16, clients: 1 });
  const stopServing = new AbortController();
  const serving = many.serve((request) => request.bytes.slice().reverse(), { signal: stopServing.signal });
  const holder = startFixture(others[0], "channel_hold", [name, "many", "slot"], 60_000);
  try {
    await holder.line(/holding/);
    const full = await many.requestAsync("x", { timeoutMs: 1000 }).then(() => "ok", (e) => e.code);
    assert.is(full, "NoSpace", "every client slot is held");
    holder.kill("SIGKILL");
    await holder.done;
    assert.is(
      decodeText(await many.requestAsync("ab", { timeoutMs: 10_000 })),
      "ba",
      "the dead client's slot is reused",
    );
  } finally {
    holder.kill("SIGKILL");
    stopServing.abort();
  }
  await within(serving, 10_000, "serve() ends on abort");
  segment.unlink();
});

test("zero-copy exchange and serve(): request written in place, response read in place", async () => {
  const name = uniqueName("chan-zero");
  using segment = Segment.create(name, { size: 1 << 20 });
  for (const clients of [0, 2]) {
    const channel = segment.channel(`zero-${clients}`, { capacity: 64, clients });
    const stopServing = new AbortController();
    const serving = channel.serve((request) => {
      const n = writeText(request.response, `${request.text()}!`);
      request.respondWith(n);
    }, { signal: stopServing.signal });
    for (let i = 0; i < 10; i++) {
      const call = channel.begin({ timeoutMs: 1000 });
      const n = writeText(call.request, `hi ${i}`);
      const length = await call.sendAsync(n, { timeoutMs: 5000 });
      assert.is(call.responseText(), `hi ${i}!`);
      assert.is(length, `hi ${i}!`.length);
      call.end();
    }
    assert.is(channel.stats().served, 10);
    stopServing.abort();
    await within(serving, 10_000, "serve() ends");
  }
  segment.unlink();
});

test("a corrupt channel gives Corrupt on use and on open", () => {
  const name = uniqueName("chan-corrupt");
  using segment = Segment.create(name, { size: 1 << 20 });
  const channel = segment.channel("rpc", { capacity: 64 });
  // capacity is the first word of the channel object (wasm/channel/layout.ts layout).
  segment.view().setUint32(offsetOf(segment, "rpc"), 1 << 27, true);
  throwsCode(() => channel.request("x", { timeoutMs: 10 }), "Corrupt", "request");
  throwsCode(() => channel.tryReceive(), "Corrupt", "receive");
  throwsCode(() => Segment.open(name), "Corrupt", "open");
  segment.unlink();
});

test.run();
