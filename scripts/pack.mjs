// Packs the npm tarball that is published: the files package.json's "files"
// selects (as `npm pack` would), with a package.json that has no "scripts"
// and no "devDependencies". A consumer runs none of our scripts anyway (npm
// runs `prepare` only for folder and git installs), but npm 11 lists every
// install-time script of a package it installs, `prepare` included, in an
// "install scripts not yet covered by allowScripts" warning; and
// scripts/build.mjs, which `prepare` names, is not in the package.
//
//   node scripts/pack.mjs [--out DIR]     build if stale, pack into DIR (default: the repository root);
//                                         prints npm's JSON report of the tarball
//   node scripts/pack.mjs --refuse-publish   (prepublishOnly) stops `npm publish` from a clone: publish the
//                                         tarball this script makes, `npm publish wshm-VERSION.tgz`

import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

if (args.includes("--refuse-publish")) {
  console.error(
    `wshm: error [Usage] publish the tarball, not the clone: node scripts/pack.mjs && npm publish ` +
      `wshm-${manifest.version}.tgz (the clone's package.json has scripts the package must not carry)`,
  );
  process.exit(1);
}

const outIndex = args.indexOf("--out");
const out = resolve(outIndex >= 0 ? args[outIndex + 1] : root);
const npm = (argv, cwd) =>
  execFileSync("npm", argv, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, npm_config_loglevel: "error" },
    stdio: ["ignore", "pipe", "inherit"],
  });

execFileSync(process.execPath, [join(root, "scripts", "build.mjs"), "--if-stale"], {
  cwd: root,
  stdio: "inherit",
});

// The file list exactly as npm selects it (files, plus README, LICENSE, CHANGELOG and package.json).
const [listing] = JSON.parse(npm(["pack", "--dry-run", "--json", "--ignore-scripts"], root));
const stage = mkdtempSync(join(tmpdir(), "wshm-pack-"));
try {
  for (const { path } of listing.files) {
    if (path === "package.json") continue;
    mkdirSync(dirname(join(stage, path)), { recursive: true });
    cpSync(join(root, path), join(stage, path));
  }
  const published = { ...manifest };
  delete published.scripts;
  delete published.devDependencies;
  writeFileSync(join(stage, "package.json"), JSON.stringify(published, null, 2) + "\n");
  mkdirSync(out, { recursive: true });
  process.stdout.write(npm(["pack", "--json", "--ignore-scripts", "--pack-destination", out], stage));
} finally {
  rmSync(stage, { recursive: true, force: true });
}
