// The Deno permissions of each `wshm` command, in one table that bin/wshm.mjs
// (Node, through the build in dist/cli/permissions.js) and the CLI itself
// (Deno, when it starts its own children) both read. docs/cli.md explains
// each flag.
//
// Why these and no fewer:
//   --allow-ffi          the library maps segments and waits on futexes through
//                        libc. It cannot be scoped to a path: Deno then treats
//                        "libc.so.6" as a file in the working directory.
//   --allow-read=<core>  the library reads build/core.wasm, found beside ts/
//                        (dist/build/core.wasm when running from the bundle).
//   --allow-read=/etc/passwd  user names for uids (cheap; numbers without it).
//   --allow-env=<colour variables>  picocolors and commander read NO_COLOR,
//                        FORCE_COLOR, CI, TERM and CLICOLOR_FORCE at start-up.
//   --allow-run=<deno, bun, node>  demo and bench start child processes.
//   --allow-net, --allow-read, --allow-env=WSHM_NATS_*  bridge talks to NATS,
//                        may read TLS files anywhere, and reads credentials
//                        from the environment.
//   --allow-all          ls, gc, rm and inspect read /dev/shm and /proc/*/maps
//                        to find every process mapping a segment; Deno allows
//                        reading /dev and /proc only under --allow-all
//                        (denoland/deno#30979), whatever --allow-read says.
// An FFI grant already lets native code do anything, so these flags guard
// against mistakes rather than against the CLI itself.

import { join } from "node:path";

/** Environment variables read by the colour and argument libraries. */
export const COLOR_ENV: readonly string[] = ["NO_COLOR", "FORCE_COLOR", "CI", "TERM", "CLICOLOR_FORCE"];

/** Environment variables `wshm bridge` reads for NATS credentials. */
export const BRIDGE_ENV: readonly string[] = ["WSHM_NATS_TOKEN", "WSHM_NATS_PASSWORD"];

/** Commands that need --allow-all to see /dev/shm and /proc. */
export const ALL_ACCESS_COMMANDS: readonly string[] = ["ls", "gc", "rm", "inspect"];

/**
 * Where a Bun binary may be, in the order the CLI tries them: this package's
 * own node_modules, then a hoisting parent's (when wshm is itself installed as
 * a dependency), from the package root `root`.
 *
 * @example
 * ```ts
 * import { bunCandidates } from "./permissions.ts";
 * bunCandidates("/opt/wshm")[0]; // "/opt/wshm/node_modules/.bin/bun"
 * ```
 */
export function bunCandidates(root: string): string[] {
  return [join(root, "node_modules", ".bin", "bun"), join(root, "..", ".bin", "bun")];
}

/**
 * Where the core's wasm file is read from: build/ by the sources, dist/build/
 * by the bundle that an installed package runs.
 */
function corePaths(root: string): string[] {
  return [join(root, "build", "core.wasm"), join(root, "dist", "build", "core.wasm")];
}

/**
 * The permission flags for running `wshm <command>` from package root `root`
 * with the Deno binary `deno`: `command` is the first non-option argument,
 * `root` and `deno` are absolute paths.
 *
 * @example
 * ```ts
 * import { permissionsFor } from "./permissions.ts";
 * permissionsFor("ls", "/opt/wshm", "/usr/bin/deno"); // ["--allow-all"]
 * ```
 */
export function permissionsFor(command: string | undefined, root: string, deno: string): string[] {
  if (command !== undefined && ALL_ACCESS_COMMANDS.includes(command)) return ["--allow-all"];
  const read = [...corePaths(root), "/etc/passwd"];
  const flags = ["--allow-ffi"];
  const run = [deno, ...bunCandidates(root), "node"];
  if (command === "demo") {
    read.push(join(root, "dist", "cli", "peer.js"));
    flags.push(`--allow-run=${run.join(",")}`);
  } else if (command === "bridge") {
    // NATS over TCP; TLS files may be anywhere; the credentials' variables.
    flags.push("--allow-net", "--allow-read", `--allow-env=${[...COLOR_ENV, ...BRIDGE_ENV].join(",")}`);
    return flags;
  } else if (command === "bench") {
    read.push(join(root, "bench"), join(root, "dist", "bench"));
    flags.push(`--allow-write=${join(root, "bench", "results")}`, `--allow-run=${run.join(",")}`);
  }
  flags.push(`--allow-read=${read.join(",")}`, `--allow-env=${COLOR_ENV.join(",")}`);
  return flags;
}

/**
 * The permissions of a peer process the demo starts under Deno (a server or
 * a client): the library's needs only.
 *
 * @example
 * ```ts
 * import { peerPermissions } from "./permissions.ts";
 * peerPermissions("/opt/wshm")[0]; // "--allow-ffi"
 * ```
 */
export function peerPermissions(root: string): string[] {
  return [
    "--allow-ffi",
    `--allow-read=${[...corePaths(root), "/etc/passwd"].join(",")}`,
    `--allow-env=${COLOR_ENV.join(",")}`,
  ];
}
