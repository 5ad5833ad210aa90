// Reading one environment variable in Deno, Node and Bun without ever
// prompting: Deno asks for permission only if it has been granted already
// (`--allow-env`, `-A`), so a program run without it sees the variable as unset.

import { runtime } from "./arch.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** The value of the environment variable `name`, or undefined if it is unset or may not be read. */
export function readEnvironment(name: string): string | undefined {
  try {
    if (runtime === "deno") {
      const state = g.Deno.permissions?.querySync?.({ name: "env", variable: name })?.state;
      return state === "granted" ? g.Deno.env.get(name) : undefined;
    }
    return g.process?.env?.[name];
  } catch {
    return undefined;
  }
}
