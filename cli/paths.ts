// Where things are, relative to this package (never the working directory).
// The CLI runs either from its sources (cli/main.ts) or, inside an installed
// package where Deno refuses TypeScript under node_modules, from the bundle
// bin/wshm.mjs makes at dist/cli/wshm.js; both sit two levels below the root
// or one.

import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url)).replace(/\/$/, "");

/** True when running from the bundle in dist/cli/. */
export const bundled: boolean = here.endsWith("/dist/cli");

/** The package root: the folder holding cli/, ts/, build/, dist/. */
export const root: string = bundled
  ? here.slice(0, -"/dist/cli".length)
  : here.slice(0, here.lastIndexOf("/"));

/** The CLI's entry point as this process runs it, for starting `wshm` children. */
export const mainScript: string = fileURLToPath(Deno.mainModule);
