// A real nats-server (Debian's package, installed by .ci/run) for the bridge's
// suites and benchmarks: started on a free loopback port, waited for until it
// accepts a client, killed and restarted on the same port for the fault tests.
// Nothing is mocked; a machine without nats-server gets a clear error.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Options of {@linkcode startNatsServer}. */
export interface NatsServerOptions {
  /** Clients must present this token. */
  token?: string;
  /** Clients must log in with this user and password. */
  user?: string;
  password?: string;
  /** Port to listen on (default: a free one). */
  port?: number;
  /** TLS: the server's certificate and key; with `caFile`, clients must present a certificate it signed. */
  tls?: { certFile: string; keyFile: string; caFile?: string };
}

/** A running nats-server. */
export interface NatsServer {
  /** `nats://127.0.0.1:PORT`, without credentials. */
  readonly url: string;
  readonly port: number;
  /** Pid of the server process now (changes on restart). */
  readonly pid: number;
  /** SIGKILLs the server and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port, with the same options. */
  restart(): Promise<void>;
  /** Stops it for good (SIGTERM, then SIGKILL); safe to call twice. */
  stop(): Promise<void>;
}

/** The files of {@linkcode makeCertificates}. */
export interface TestCertificates {
  dir: string;
  /** The CA that signed the server's and the client's certificates. */
  caFile: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Another CA, which signed neither. */
  otherCaFile: string;
  /** Removes the directory. */
  remove(): void;
}

/**
 * Makes, with the openssl command (Debian's openssl), a CA, a server
 * certificate for 127.0.0.1 and a client certificate it signed, and a second
 * CA that signed nothing: real TLS for the bridge's tests, made fresh for
 * each run (nothing secret is kept in the repository).
 */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "wshm-tls-"));
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => {
    const run = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
    if (run.status !== 0) {
      throw new Error(`openssl ${args.join(" ")}: ${run.error?.message ?? run.stderr}`);
    }
  };
  // A new P-256 key, unencrypted, for each certificate.
  const NEW_EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  try {
    const ca = (name: string) =>
      openssl(
        "req",
        "-x509",
        ...NEW_EC_KEY,
        "-keyout",
        f(`${name}.key`),
        "-out",
        f(`${name}.pem`),
        "-days",
        "2",
        "-subj",
        `/CN=${name}`,
      );
    ca("ca");
    ca("other-ca");
    const signed = (name: string, extensions: string) => {
      openssl(
        "req",
        ...NEW_EC_KEY,
        "-keyout",
        f(`${name}.key`),
        "-out",
        f(`${name}.csr`),
        "-subj",
        `/CN=${name}`,
      );
      writeFileSync(f(`${name}.ext`), extensions);
      openssl(
        "x509",
        "-req",
        "-in",
        f(`${name}.csr`),
        "-CA",
        f("ca.pem"),
        "-CAkey",
        f("ca.key"),
        "-CAcreateserial",
        "-out",
        f(`${name}.pem`),
        "-days",
        "2",
        "-extfile",
        f(`${name}.ext`),
      );
    };
    // localhost too: the NATS client checks a loopback server's certificate against that name.
    signed("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    signed("client", "extendedKeyUsage=clientAuth\n");
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    caFile: f("ca.pem"),
    serverCert: f("server.pem"),
    serverKey: f("server.key"),
    clientCert: f("client.pem"),
    clientKey: f("client.key"),
    otherCaFile: f("other-ca.pem"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** True if Debian's nats-server is on PATH. */
export function natsServerAvailable(): boolean {
  const r = spawnSync("nats-server", ["--version"], { encoding: "utf8" });
  return r.status === 0;
}

/** A TCP port on 127.0.0.1 that nothing listened on a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once a TCP client at `port` reads the server's INFO line; rejects after `timeoutMs`. */
function waitAccepting(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = createConnection({ host: "127.0.0.1", port });
      let done = false;
      const retry = () => {
        if (done) return;
        done = true;
        socket.destroy();
        if (Date.now() > deadline) {
          reject(new Error(`nats-server did not accept on port ${port} within ${timeoutMs} ms`));
        } else setTimeout(attempt, 20);
      };
      socket.setTimeout(500, retry);
      socket.once("error", retry);
      socket.once("data", (data) => {
        if (done) return;
        done = true;
        socket.destroy();
        if (String(data).startsWith("INFO")) resolve();
        else reject(new Error(`port ${port} answered something other than nats-server`));
      });
    };
    attempt();
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Starts nats-server on 127.0.0.1 (a free port unless `options.port`) and
 * resolves once it accepts clients.
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  if (!natsServerAvailable()) {
    throw new Error(
      "nats-server is not installed (Debian: apt-get install nats-server; .ci/run installs it)",
    );
  }
  const port = options.port ?? await freePort();
  const args = ["-a", "127.0.0.1", "-p", String(port), "-m", "0"];
  if (options.token !== undefined) args.push("--auth", options.token);
  if (options.user !== undefined) args.push("--user", options.user, "--pass", options.password ?? "");
  if (options.tls !== undefined) {
    args.push("--tls", "--tlscert", options.tls.certFile, "--tlskey", options.tls.keyFile);
    if (options.tls.caFile !== undefined) args.push("--tlscacert", options.tls.caFile, "--tlsverify");
  }
  let child: ChildProcess | undefined;
  let stderr = "";
  const launch = async () => {
    stderr = "";
    const started = spawn("nats-server", args, { stdio: ["ignore", "ignore", "pipe"] });
    started.stderr?.on("data", (d) => {
      if (stderr.length < 8192) stderr += String(d);
    });
    child = started;
    try {
      await waitAccepting(port, 10_000);
    } catch (error) {
      started.kill("SIGKILL");
      await exited(started);
      throw new Error(`${(error as Error).message}\n${stderr}`);
    }
  };
  await launch();
  const kill = async () => {
    if (child === undefined) return;
    const c = child;
    child = undefined;
    c.kill("SIGKILL");
    await exited(c);
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid ?? 0;
    },
    kill,
    restart: launch,
    async stop() {
      if (child === undefined) return;
      const c = child;
      child = undefined;
      c.kill("SIGTERM");
      const timer = setTimeout(() => c.kill("SIGKILL"), 2000);
      await exited(c);
      clearTimeout(timer);
    },
  };
}
