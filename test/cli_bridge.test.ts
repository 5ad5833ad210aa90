// `wshm bridge` driven as a user drives it: through the npm bin, as separate
// processes, against a real nats-server, with real signals; and `wshm inspect`
// showing the bridge. The library's guarantees are tested in bridge.test.ts.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { cleanup, root, type Run, runtime, startProcess, uniqueName, within } from "./helpers.ts";
import { makeCertificates, type NatsServer, startNatsServer } from "./nats_server.ts";

const test = suite(`cli bridge (${runtime})`);
let nats: NatsServer | undefined;
test.before(async () => {
  nats = await startNatsServer({ token: "s3cret" });
});
test.after(async () => {
  await nats?.stop();
});
test.after.each(cleanup);

const node = runtime === "node" ? process.execPath : "node";
const start = (args: string[], env?: Record<string, string>) =>
  startProcess(node, [join(root, "bin", "wshm.mjs"), ...args], {
    label: `wshm ${args.join(" ")}`,
    timeoutMs: 60_000,
    env,
  });
const wshm = (args: string[]): Promise<Run> => within(start(args).done, 65_000, `wshm ${args.join(" ")}`);

async function eventually(
  what: string,
  attempt: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await attempt()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

type Child = ReturnType<typeof start>;

/** Starts `wshm serve SEGMENT --handler upper` (added to `children`) and waits for its segment. */
async function startServing(segment: string, children: Child[]): Promise<void> {
  children.push(start(["serve", segment, "--handler", "upper", "--quiet"]));
  await eventually("the server's segment", () => existsSync(`/dev/shm${segment}`));
}

/** SIGTERM to every process a test started, and their ends awaited (30 s each at most). */
async function endAll(children: Child[]): Promise<void> {
  for (const child of children) child.kill("SIGTERM");
  await Promise.allSettled(children.map((c) => within(c.done, 30_000, "cleanup")));
}

test("a served channel exported by one bridge and imported by another is called through NATS; inspect shows both bridges; SIGTERM ends them by the signal", async () => {
  const hostB = uniqueName("cli-br-b");
  const hostA = uniqueName("cli-br-a");
  const children: Child[] = [];
  try {
    await startServing(hostB, children);
    // The token from the environment: never on the command line, never shown.
    const env = { WSHM_NATS_TOKEN: "s3cret" };
    const exporter = start(["bridge", hostB, "--nats", nats!.url, "--export", "wshm"], env);
    const importer = start(
      ["bridge", hostA, "--nats", nats!.url, "--import", "wshm", "--remove", "--json"],
      env,
    );
    children.push(exporter, importer);
    await exporter.line(/^bridging /, 30_000);
    const started = JSON.parse(await importer.line(/"event":"started"/, 30_000));
    assert.equal(started.imports, ["wshm"]);
    let answer: Run | undefined;
    await eventually("a call through the bridges", async () => {
      answer = await wshm(["client", hostA, "through nats", "--timeout", "3000"]);
      return answer.code === 0;
    }, 30_000);
    assert.is(answer!.stdout, "THROUGH NATS\n");
    // The bridge rewrites its state every second and on every change: the call's counts show up soon.
    let bridge: { connection: string; alive: boolean; objects: Record<string, unknown>[] } | undefined;
    await eventually("the bridge's state after the call", async () => {
      const shown = await wshm(["inspect", hostA, "--json"]);
      assert.is(shown.code, 0, shown.stderr);
      bridge = JSON.parse(shown.stdout).bridge;
      return bridge?.objects.some((o) => o.name === "wshm" && (o.received as number) >= 1) ?? false;
    });
    assert.is(bridge!.connection, "connected");
    assert.is(bridge!.alive, true);
    assert.ok(!JSON.stringify(bridge).includes("s3cret"), "no credential in the published state");
    const rpc = bridge!.objects.find((o) => o.name === "wshm")!;
    assert.equal([rpc.kind, rpc.direction, rpc.state], ["channel", "import", "active"]);
    assert.ok((rpc.sent as number) >= 1, JSON.stringify(rpc));
    const text = await wshm(["inspect", hostB]);
    assert.match(text.stdout, /bridge +pid \d+ \(alive\), connected to nats:\/\/127\.0\.0\.1:\d+/);
    assert.match(text.stdout, /wshm +channel +export +active/);
    for (const bridgeProcess of [importer, exporter]) {
      bridgeProcess.kill("SIGTERM");
      const run = await within(bridgeProcess.done, 30_000, "bridge after SIGTERM");
      assert.is(run.code ?? 128 + 15, 143, `exit ${run.code} ${run.signal}: ${run.stderr}`);
    }
    assert.not.ok(
      existsSync(`/dev/shm${hostA}`),
      "--remove: the importing bridge removed the segment it created",
    );
    assert.ok(
      existsSync(`/dev/shm${hostB}`),
      "the exporting bridge leaves the server's segment to the server",
    );
  } finally {
    await endAll(children);
  }
});

test("usage errors exit 2 with a code; a wrong token is reported, not a hang", async () => {
  const name = uniqueName("cli-br-bad");
  const nothing = await wshm(["bridge", name, "--nats", nats!.url]);
  assert.is(nothing.code, 2, nothing.stderr);
  assert.match(nothing.stderr, /Nothing to bridge/);
  const noUrl = await wshm(["bridge", name, "--export", "x"]);
  assert.is(noUrl.code, 2, noUrl.stderr);
  const dotted = await wshm(["bridge", name, "--nats", nats!.url, "--export", "a.b", "--remove"]);
  assert.is(dotted.code, 1, dotted.stderr);
  assert.match(dotted.stderr, /InvalidName/);
  const missing = await wshm(["bridge", name, "--nats", nats!.url, "--export", "absent", "--remove"]);
  assert.is(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /NotFound/);
  assert.not.ok(existsSync(`/dev/shm${name}`), "--remove on failure too");
  // A wrong token: the bridge runs (local callers would get Unavailable) and says why it cannot connect.
  const wrong = start(["bridge", name, "--nats", nats!.url, "--import", "x", "--token", "wrong", "--remove"]);
  try {
    await wrong.line(/^bridging /, 30_000);
    const shown = await (async () => {
      let json: { bridge?: { connection?: string } } = {};
      await eventually("the connection state", async () => {
        const run = await wshm(["inspect", name, "--json"]);
        json = JSON.parse(run.stdout);
        return typeof json.bridge?.connection === "string" &&
          json.bridge.connection.startsWith("connecting:");
      });
      return json;
    })();
    assert.match(shown.bridge!.connection!, /connecting: .*(auth|Authorization)/i);
  } finally {
    wrong.kill("SIGTERM");
    await within(wrong.done, 30_000, "bridge after SIGTERM");
  }
  assert.not.ok(existsSync(`/dev/shm${name}`));
});

test("user/password and TLS pass through: a call crosses a nats-server that wants both and a client certificate; a bridge that does not trust the server's CA says so", async () => {
  const certs = makeCertificates();
  const secure = await startNatsServer({
    user: "host",
    password: "pa55",
    tls: { certFile: certs.serverCert, keyFile: certs.serverKey, caFile: certs.caFile },
  });
  const hostB = uniqueName("cli-br-tls-b");
  const hostA = uniqueName("cli-br-tls-a");
  const children: Child[] = [];
  try {
    await startServing(hostB, children);
    const tls = ["--tls-ca", certs.caFile, "--tls-cert", certs.clientCert, "--tls-key", certs.clientKey];
    const env = { WSHM_NATS_PASSWORD: "pa55" };
    const exporter = start([
      "bridge",
      hostB,
      "--nats",
      secure.url,
      "--user",
      "host",
      ...tls,
      "--export",
      "wshm",
    ], env);
    const importer = start(
      ["bridge", hostA, "--nats", secure.url, "--user", "host", ...tls, "--import", "wshm", "--remove"],
      env,
    );
    children.push(exporter, importer);
    await exporter.line(/^bridging /, 30_000);
    await importer.line(/^bridging /, 30_000);
    let answer: Run | undefined;
    await eventually("a call through the bridges over TLS", async () => {
      answer = await wshm(["client", hostA, "over tls", "--timeout", "3000"]);
      return answer.code === 0;
    }, 30_000);
    assert.is(answer!.stdout, "OVER TLS\n");
    const shown = JSON.parse((await wshm(["inspect", hostA, "--json"])).stdout);
    assert.is(shown.bridge.connection, "connected");
    assert.ok(!JSON.stringify(shown).includes("pa55"), "no credential in the published state");

    // The right user, but a CA that did not sign the server's certificate: no connection, and why.
    const hostC = uniqueName("cli-br-tls-c");
    const distrust = start(
      [
        "bridge",
        hostC,
        "--nats",
        secure.url,
        "--user",
        "host",
        "--tls-ca",
        certs.otherCaFile,
        "--tls-cert",
        certs.clientCert,
        "--tls-key",
        certs.clientKey,
        "--import",
        "x",
        "--remove",
      ],
      env,
    );
    children.push(distrust);
    await distrust.line(/^bridging /, 30_000);
    let state = "";
    await eventually("the untrusted server's state", async () => {
      const run = await wshm(["inspect", hostC, "--json"]);
      state = JSON.parse(run.stdout).bridge?.connection ?? "";
      return state.startsWith("connecting:");
    });
    assert.match(state, /certificate|self.signed|verify/i, state);
  } finally {
    await endAll(children);
    await secure.stop();
    certs.remove();
  }
});

test.run();
