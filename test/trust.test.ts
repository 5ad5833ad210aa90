// Whose segments Segment.open accepts (ForeignOwner, trustOwner) and the group
// Segment.create gives a segment. Handing a file to another user needs root:
// those tests are skipped (not passed) for anybody else.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { chownSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import process from "node:process";
import { Segment } from "../ts/mod.ts";
import { join } from "node:path";
import { cleanup, root, runtime, startProcess, throwsCode, uniqueName, within } from "./helpers.ts";

const test = suite(`trust (${runtime})`);
test.after.each(cleanup);

const isRoot = process.getuid?.() === 0;
/** Tests that give a file to another user: run as root, skipped otherwise. */
const asRoot = isRoot ? test : test.skip;

/** The id of `name` in /etc/passwd or /etc/group. */
function idOf(file: string, name: string): number | undefined {
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [n, , id] = line.split(":");
    if (n === name) return Number(id);
  }
  return undefined;
}

const NOBODY = idOf("/etc/passwd", "nobody") ?? 65534;
/** A group root may give a file to that is not root's own. */
const OTHER_GROUP = ["daemon", "nogroup", "bin"]
  .map((name) => ({ name, gid: idOf("/etc/group", name) }))
  .find((g) => g.gid !== undefined && g.gid !== 0) as { name: string; gid: number } | undefined;

/** A fresh segment given to user `uid`, closed (only its file stays). */
function foreignSegment(tag: string, uid = NOBODY): string {
  const name = uniqueName(tag);
  Segment.create(name, { size: 65536, mode: 0o666 }).close();
  chownSync(`/dev/shm${name}`, uid, uid);
  return name;
}

/** Asserts that `fn` throws a TypeError or RangeError (`type`) with code InvalidArgument. */
function throwsArgument(fn: () => unknown, type: typeof TypeError | typeof RangeError, what: string): void {
  try {
    fn();
  } catch (error) {
    // deno-lint-ignore no-explicit-any
    const e = error as any;
    assert.ok(e instanceof type, `${what}: expected a ${type.name}, got ${e?.name}: ${e?.message}`);
    assert.is((error as { code?: string }).code, "InvalidArgument", `${what}: the error's code`);
    return;
  }
  assert.unreachable(`${what}: did not throw`);
}

asRoot("Segment.open() refuses another user's segment with ForeignOwner, naming the owner", () => {
  const name = foreignSegment("foreign");
  try {
    Segment.open(name);
    assert.unreachable("open should refuse");
  } catch (error) {
    // deno-lint-ignore no-explicit-any
    const e = error as any;
    assert.is(e.code, "ForeignOwner", e.message);
    assert.is(
      e.message,
      `Cannot open segment "${name}": it is owned by uid ${NOBODY} (nobody), not by you; ` +
        `pass { trustOwner: ${NOBODY} } or { trustOwner: "nobody" } to open it anyway`,
    );
  }
});

asRoot("root gets ForeignOwner too, and trusting another user is not trusting this one", () => {
  const name = foreignSegment("root-foreign");
  throwsCode(() => Segment.open(name, { trustOwner: 0 }), "ForeignOwner", "trustOwner: root");
  throwsCode(() => Segment.open(name, { trustOwner: "root" }), "ForeignOwner", "trustOwner: 'root'");
});

asRoot("trustOwner by uid, by user name and 'any' opens another user's segment", () => {
  const name = foreignSegment("trusted");
  for (const trustOwner of [NOBODY, "nobody", String(NOBODY), "any"]) {
    using segment = Segment.open(name, { trustOwner });
    assert.is(segment.created, false, `trustOwner ${trustOwner}`);
    segment.bytes("seen", 8);
  }
});

asRoot("the owner is checked before any byte is read: a foreign file of garbage is ForeignOwner", () => {
  const name = uniqueName("garbage");
  writeFileSync(`/dev/shm${name}`, new Uint8Array(100).fill(0x55));
  chownSync(`/dev/shm${name}`, NOBODY, NOBODY);
  throwsCode(() => Segment.open(name), "ForeignOwner");
  throwsCode(() => Segment.open(name, { trustOwner: "any" }), "BadMagic", "trusted, it is read");
});

asRoot("create with exclusive: false applies the same trust rules to the segment it finds", () => {
  const name = foreignSegment("fallback");
  throwsCode(() => Segment.create(name, { size: 65536, exclusive: false }), "ForeignOwner");
  using segment = Segment.create(name, { size: 65536, exclusive: false, trustOwner: "nobody" });
  assert.is(segment.created, false);
  assert.is(statSync(`/dev/shm${name}`).uid, NOBODY, "the found segment was left as it was");
});

test("a segment of your own opens whatever trustOwner says", () => {
  const name = uniqueName("own");
  using created = Segment.create(name, { size: 65536 });
  for (const trustOwner of [undefined, NOBODY, "nobody", "any"]) {
    using segment = Segment.open(name, { trustOwner });
    assert.is(segment.size, 65536);
  }
  created.unlink();
});

test("create's group option gives the file that group; the mode stays what was asked", () => {
  const gid = process.getgid!();
  const name = uniqueName("own-group");
  using segment = Segment.create(name, { size: 65536, mode: 0o660, group: gid });
  const stat = statSync(`/dev/shm${name}`);
  assert.is(stat.gid, gid);
  assert.is(stat.mode & 0o777, 0o660);
  const plain = uniqueName("default-mode");
  Segment.create(plain, { size: 65536 }).close();
  assert.is(statSync(`/dev/shm${plain}`).mode & 0o777, 0o600, "the default mode is 0600");
  segment.unlink();
});

(isRoot && OTHER_GROUP !== undefined ? test : test.skip)(
  "create's group option takes a group name or a gid from /etc/group",
  () => {
    const { name: groupName, gid } = OTHER_GROUP!;
    for (const group of [groupName, gid]) {
      const name = uniqueName("group");
      using segment = Segment.create(name, { size: 65536, mode: 0o660, group });
      const stat = statSync(`/dev/shm${name}`);
      assert.is(stat.gid, gid, `group ${group}`);
      assert.is(stat.uid, 0, "the owner stays the creator");
      assert.is(stat.mode & 0o777, 0o660);
      segment.unlink();
    }
  },
);

test("bad trustOwner values are a TypeError or RangeError with a code", () => {
  const name = uniqueName("bad-trust");
  using segment = Segment.create(name, { size: 65536 });
  const bad: Array<[unknown, typeof TypeError | typeof RangeError, string]> = [
    ["no-such-user-wshm", RangeError, "an unknown user name"],
    [-1, RangeError, "a negative uid"],
    [1.5, RangeError, "a fractional uid"],
    [NaN, RangeError, "NaN"],
    [2 ** 32, RangeError, "a uid beyond 32 bits"],
    [true, TypeError, "a boolean"],
    [{}, TypeError, "an object"],
    [Symbol("x"), TypeError, "a symbol"],
  ];
  for (const [trustOwner, type, why] of bad) {
    throwsArgument(() => Segment.open(name, { trustOwner: trustOwner as number }), type, `open, ${why}`);
    throwsArgument(
      () => Segment.create(name, { size: 65536, exclusive: false, trustOwner: trustOwner as number }),
      type,
      `create, ${why}`,
    );
  }
  segment.unlink();
});

test("bad group values are refused before anything is created", () => {
  const bad: Array<[unknown, typeof TypeError | typeof RangeError, string]> = [
    ["no-such-group-wshm", RangeError, "an unknown group name"],
    [-5, RangeError, "a negative gid"],
    [0.5, RangeError, "a fractional gid"],
    [[1], TypeError, "an array"],
  ];
  for (const [group, type, why] of bad) {
    const name = uniqueName("bad-group");
    throwsArgument(() => Segment.create(name, { size: 65536, group: group as number }), type, why);
    throwsCode(() => Segment.open(name), "NotFound", `${why}: nothing was created`);
  }
});

/** Runs test/fixtures/trust_open.ts under Node as user nobody (setpriv), with its output. */
async function openAsNobody(name: string, trust?: string): Promise<string> {
  const script = join(root, "dist", "test", "fixtures", "trust_open.js");
  const args = ["--reuid", String(NOBODY), "--regid", String(NOBODY), "--clear-groups", "node", script, name];
  const child = startProcess("setpriv", trust === undefined ? args : [...args, trust], {
    label: "trust_open as nobody",
    timeoutMs: 30_000,
  });
  const run = await within(child.done, 35_000, "trust_open as nobody");
  assert.is(run.code, 0, `trust_open exited ${run.code}: ${run.stderr}`);
  return run.stdout.trim();
}

const canDropPrivileges = isRoot && existsSync("/usr/bin/setpriv") &&
  existsSync(join(root, "dist", "test", "fixtures", "trust_open.js"));

(canDropPrivileges ? test : test.skip)(
  "another user cannot be fed a squatted segment: nobody's open of root's 0666 segment is ForeignOwner",
  async () => {
    const name = uniqueName("squat");
    Segment.create(name, { size: 65536, mode: 0o666 }).close();
    const refused = await openAsNobody(name);
    assert.match(
      refused,
      /^error ForeignOwner Cannot open segment .*owned by uid 0 \(root\), not by you/,
      `nobody's open printed: ${refused}`,
    );
    assert.is(await openAsNobody(name, "root"), "opened 65536", "trustOwner by name");
    assert.is(await openAsNobody(name, "0"), "opened 65536", "trustOwner by uid");
    assert.is(await openAsNobody(name, "any"), "opened 65536", 'trustOwner "any"');
  },
);

/** Runs the CLI from its sources under Deno (bounded). */
function wshm(args: string[]) {
  const deno = join(root, "node_modules", ".bin", "deno");
  const child = startProcess(deno, ["run", "-A", "--quiet", join(root, "cli", "main.ts"), ...args], {
    label: `wshm ${args.join(" ")}`,
    input: "",
    timeoutMs: 60_000,
  });
  return within(child.done, 65_000, `wshm ${args.join(" ")}`);
}

asRoot(
  "the CLI: inspect and client refuse another user's segment unless --trust-owner; ls shows owner and group",
  async () => {
    const name = uniqueName("cli-foreign");
    const group = OTHER_GROUP?.gid ?? 0;
    Segment.create(name, { size: 65536, mode: 0o640, group }).close();
    chownSync(`/dev/shm${name}`, NOBODY, group);
    const refused = await wshm(["inspect", name, "--no-color"]);
    assert.is(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, "[ForeignOwner]");
    assert.match(refused.stderr, `--trust-owner nobody (or ${NOBODY})`);
    const shown = await wshm(["inspect", name, "--no-color", "--trust-owner", "nobody"]);
    assert.is(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, `owner    nobody (uid ${NOBODY}), group`);
    const client = await wshm(["client", name, "hi", "--timeout", "100"]);
    assert.is(client.code, 1, client.stderr);
    assert.match(client.stderr, "[ForeignOwner]");
    const trusted = await wshm(["client", name, "hi", "--timeout", "100", "--trust-owner", String(NOBODY)]);
    assert.not.match(trusted.stderr, "ForeignOwner", "with --trust-owner it gets as far as the channel");
    const listed = await wshm(["ls", "--json"]);
    assert.is(listed.code, 0, listed.stderr);
    // deno-lint-ignore no-explicit-any
    const report = JSON.parse(listed.stdout).find((r: any) => r.name === name);
    assert.ok(report !== undefined, "ls lists another user's segment");
    assert.is(report.uid, NOBODY);
    assert.is(report.owner, "nobody");
    assert.is(report.gid, group);
    assert.is(report.state, "ready", "ls reads another user's segment (it only shows what it says)");
  },
);

test.run();
