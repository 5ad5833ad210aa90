// `wshm bench`: runs the benchmark scripts in bench/ and reports them.
//
// The contract a script follows (docs/cli.md has the full text):
//   - it is bench/NAME.ts (not lib.ts, not *_peer.ts, not _*.ts) and its text
//     mentions --json;
//   - run with --json (and --quick for a short run), it prints one JSON object
//     per line per result: {"bench", "case", "unit", "median", "p50"?, "p90"?,
//     "p99"?, "runtime"?, "baseline"?}; `baseline: true` (or a case whose name
//     starts with "baseline") marks a row others are compared with, and
//     `baseline: "<case>"` names the row this one is compared with;
//   - it may print {"progress": 0.0..1.0} lines; every other line is ignored;
//   - it exits 0 on success.

import cliProgress from "cli-progress";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { colors, formatMicros, formatRate, printJson, stderrIsTerminal, table } from "./format.ts";
import { CliError } from "./errors.ts";
import { type Lane, latencyChart } from "./svg.ts";
import { bunCandidates } from "./permissions.ts";
import { onTerminate } from "./signals.ts";
import { root } from "./paths.ts";
import type { BenchRow } from "../ts/bench_row.ts";

/** One result row (the contract's, ts/bench_row.ts), as the script printed it plus where it came from. */
export interface Row extends BenchRow {
  script: string;
  /** Filled in: how this row compares with its baseline (time / baseline time, or the inverse for rates). */
  ratio?: number;
  vs?: string;
}

interface Job {
  script: string;
  runtime: string;
  command: string;
  args: string[];
}

/** Options of {@linkcode bench}. */
export interface BenchOptions {
  quick?: boolean;
  filter?: string;
  runtimes: string[];
  timeout: number;
  json?: boolean;
}

async function scripts(filter: string | undefined): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(`${root}/bench`)) {
      const name = entry.name;
      if (!entry.isFile || !name.endsWith(".ts") || name === "lib.ts" || name.startsWith("_")) continue;
      if (name.endsWith("_peer.ts") || name.endsWith(".d.ts")) continue;
      if (filter !== undefined && !name.includes(filter)) continue;
      if (!(await Deno.readTextFile(`${root}/bench/${name}`)).includes("--json")) continue;
      found.push(name.replace(/\.ts$/, ""));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found.sort();
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function jobsFor(names: string[], options: BenchOptions): Promise<{ jobs: Job[]; skipped: string[] }> {
  const jobs: Job[] = [];
  const skipped: string[] = [];
  const extra = ["--json", ...(options.quick ? ["--quick"] : [])];
  for (const script of names) {
    const source = `${root}/bench/${script}.ts`;
    for (const runtime of options.runtimes) {
      if (runtime === "deno") {
        jobs.push({
          script,
          runtime,
          command: Deno.execPath(),
          args: ["run", "-A", "--quiet", source, ...extra],
        });
      } else if (runtime === "node") {
        const built = `${root}/dist/bench/${script}.js`;
        if (await exists(built)) jobs.push({ script, runtime, command: "node", args: [built, ...extra] });
        else skipped.push(`${script} under node (no ${built}: run npm run build)`);
      } else {
        jobs.push({ script, runtime, command: bunCandidates(root)[0], args: ["run", source, ...extra] });
      }
    }
  }
  return { jobs, skipped };
}

function parseRows(job: Job, stdout: string, onProgress: (fraction: number) => void): Row[] {
  const rows: Row[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof data.progress === "number" && data.median === undefined) {
      onProgress(data.progress);
      continue;
    }
    if (typeof data.median !== "number") continue;
    const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
    rows.push({
      script: job.script,
      runtime: typeof data.runtime === "string" ? data.runtime : job.runtime,
      bench: typeof data.bench === "string" ? data.bench : job.script,
      case: String(data.case ?? data.name ?? "?"),
      unit: String(data.unit ?? ""),
      median: data.median,
      p50: num(data.p50),
      p90: num(data.p90),
      p99: num(data.p99),
      baseline: typeof data.baseline === "boolean" || typeof data.baseline === "string"
        ? data.baseline
        : undefined,
      verdict: isVerdict(data.verdict) ? data.verdict : undefined,
      verdicts: Array.isArray(data.verdicts) && data.verdicts.every(isVerdict) ? data.verdicts : undefined,
    });
  }
  return rows;
}

/** A verdict as a benchmark script writes it on a row (bench/_targets.ts): at least `met`, a boolean. */
function isVerdict(value: unknown): value is NonNullable<Row["verdict"]> {
  return typeof value === "object" && value !== null && typeof (value as { met?: unknown }).met === "boolean";
}

function isBaseline(row: Row): boolean {
  return row.baseline === true || /^baseline\b/i.test(row.case);
}

/** Fills `ratio` and `vs` of every row that has a baseline in its bench, runtime and unit. */
export function compare(rows: Row[]): void {
  for (const row of rows) {
    if (isBaseline(row)) continue;
    const peers = rows.filter((r) =>
      r.bench === row.bench && r.runtime === row.runtime && r.unit === row.unit
    );
    const base = typeof row.baseline === "string"
      ? peers.find((r) => r.case === row.baseline)
      : peers.find(isBaseline);
    if (base === undefined || base.median <= 0 || row.median <= 0) continue;
    const rate = /\/s$/.test(row.unit);
    row.ratio = rate ? row.median / base.median : base.median / row.median;
    row.vs = base.case;
  }
}

const NS_PER: Record<string, number> = {
  ns: 1,
  "ns/op": 1,
  us: 1e3,
  "µs": 1e3,
  "us/op": 1e3,
  ms: 1e6,
  s: 1e9,
};

/**
 * A value in the one format of every CLI table: times as `formatMicros`
 * ("1.08 µs", "120 µs"), rates as `formatRate` with their noun kept
 * ("11.43M msgs/s", "42.0k msgs/s"), other units with thousands grouped.
 */
export function formatValue(value: number | undefined, unit: string): string {
  if (value === undefined) return "-";
  const scale = NS_PER[unit];
  if (scale !== undefined) return formatMicros((value * scale) / 1000);
  if (unit.endsWith("/s")) {
    const noun = unit.slice(0, -2).trim();
    const rate = formatRate(value);
    return noun === "" ? rate : `${rate.slice(0, -2)} ${noun}/s`;
  }
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toLocaleString("en-US", { maximumFractionDigits: digits })} ${unit}`;
}

/**
 * "3.10x faster", with " vs CASE" only when the row's baseline is not the
 * one every other row of its bench, runtime and unit is compared with (the
 * table marks that one "baseline"): the column stays narrow.
 */
function formatRatio(row: Row, rows: Row[]): string {
  const c = colors();
  if (isBaseline(row)) return c.dim("baseline");
  if (row.ratio === undefined) return "";
  const text = row.ratio >= 1 ? `${row.ratio.toFixed(2)}x faster` : `${(1 / row.ratio).toFixed(2)}x slower`;
  const baselines = new Set(
    rows.filter((r) => r.bench === row.bench && r.runtime === row.runtime && r.unit === row.unit && r.vs)
      .map((r) => r.vs),
  );
  const implicit = rows.some((r) =>
    r.bench === row.bench && r.runtime === row.runtime && r.case === row.vs && isBaseline(r)
  );
  const vs = baselines.size > 1 || !implicit ? c.dim(` vs ${row.vs}`) : "";
  return `${row.ratio >= 1 ? c.green(text) : c.red(text)}${vs}`;
}

async function runJob(job: Job, timeoutS: number, onProgress: (f: number) => void) {
  const child = new Deno.Command(job.command, {
    args: job.args,
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone already */ }
  }, timeoutS * 1000);
  let stdout = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stdout) {
      stdout += decoder.decode(chunk, { stream: true });
      const last = stdout.lastIndexOf("\n");
      const tail = stdout.slice(stdout.lastIndexOf("\n", last - 1) + 1, last);
      if (tail.includes('"progress"')) parseRows(job, tail, onProgress);
    }
  })();
  const stderr = new Response(child.stderr).text();
  const status = await child.status;
  clearTimeout(timer);
  await reading;
  return { status, stdout, stderr: await stderr, child };
}

/** Runs `bench`. */
export async function bench(options: BenchOptions): Promise<void> {
  const c = colors();
  // The benchmarks and their C baselines are not in the npm package: outside a clone there is nothing to run.
  if (!existsSync(join(root, "bench"))) {
    throw new CliError(
      "RepositoryOnly",
      `wshm bench runs the benchmarks of a clone of the repository; ${root} has no bench/`,
    );
  }
  const names = await scripts(options.filter);
  if (names.length === 0) {
    const message = `No benchmark scripts in ${root}/bench` +
      (options.filter ? ` matching "${options.filter}"` : "") + " (see docs/cli.md for what makes one)";
    if (options.json) printJson({ rows: [], failures: [], files: [], message });
    else console.log(c.dim(message));
    return;
  }
  const { jobs, skipped } = await jobsFor(names, options);
  const bar = stderrIsTerminal()
    ? new cliProgress.SingleBar({
      format: " {bar} {percentage}% | {value}/{total} | {job}",
      hideCursor: true,
      clearOnComplete: true,
    }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(jobs.length, 0, { job: "" });
  const rows: Row[] = [];
  const failures: Array<{ script: string; runtime: string; error: string }> = [];
  let current: Deno.ChildProcess | undefined;
  let interrupted = false;
  using _signals = onTerminate(() => {
    interrupted = true;
    try {
      current?.kill("SIGTERM");
    } catch { /* gone already */ }
  });
  for (const [i, job] of jobs.entries()) {
    if (interrupted) break;
    const label = `${job.script} (${job.runtime})`;
    if (bar) bar.update(i, { job: label });
    else if (!options.json) console.error(c.dim(`[${i + 1}/${jobs.length}] ${label}`));
    try {
      const result = await runJob(
        job,
        options.timeout,
        (f) => bar?.update(i + Math.min(1, Math.max(0, f)), { job: label }),
      );
      const found = parseRows(job, result.stdout, () => {});
      if (!result.status.success) {
        const why = result.status.signal
          ? `killed by ${result.status.signal}`
          : `exit code ${result.status.code}`;
        failures.push({ ...job, error: `${why}: ${result.stderr.trim().split("\n").slice(-3).join(" / ")}` });
      } else if (found.length === 0) {
        failures.push({ ...job, error: "printed no result lines (see the contract in docs/cli.md)" });
      }
      rows.push(...found);
    } catch (error) {
      failures.push({ ...job, error: error instanceof Error ? error.message : String(error) });
    }
    bar?.update(i + 1, { job: label });
  }
  bar?.stop();
  compare(rows);
  const files = rows.length > 0 ? await writeResults(rows, failures, options) : [];
  if (options.json) {
    printJson({ rows, failures, skipped, files, interrupted });
  } else {
    printTable(rows);
    for (const s of skipped) console.log(c.yellow(`skipped ${s}`));
    for (const f of failures) console.log(c.red(`failed ${f.script} under ${f.runtime}: ${f.error}`));
    for (const file of files) console.log(`${c.dim("wrote")} ${file}`);
  }
  if (interrupted) throw new CliError("Interrupted", "The benchmarks were interrupted");
  if (failures.length > 0) {
    throw new CliError("BenchFailed", `${failures.length} of ${jobs.length} benchmark runs failed`);
  }
}

/**
 * The results table, about 100 columns: one central value (MEDIAN, the
 * median of the script's rounds, which the ratio compares) and the tail
 * (P99 over every sample); p50 and p90 are in the JSON and the chart. The
 * bench name is shown once per group.
 */
export function benchTable(rows: Row[]): string {
  const c = colors();
  return table(
    ["BENCH", "RUNTIME", "CASE", "MEDIAN", "P99", "VS BASELINE"],
    rows.map((r, i) => [
      i > 0 && rows[i - 1].bench === r.bench ? "" : r.bench,
      r.runtime,
      isBaseline(r) ? c.dim(r.case) : r.case,
      c.bold(formatValue(r.median, r.unit)),
      formatValue(r.p99, r.unit),
      formatRatio(r, rows),
    ]),
    ["left", "left", "left", "right", "right"],
  );
}

function printTable(rows: Row[]): void {
  if (rows.length === 0) return;
  console.log(benchTable(rows));
  console.log(
    colors().dim("MEDIAN: median of the rounds; P99: of every sample. p50/p90 in the JSON and the chart."),
  );
}

async function writeResults(rows: Row[], failures: unknown[], options: BenchOptions): Promise<string[]> {
  const dir = `${root}/bench/results`;
  await Deno.mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const jsonPath = `${dir}/bench-${stamp}.json`;
  const svgPath = `${dir}/bench-${stamp}.svg`;
  const data = {
    createdAt: new Date().toISOString(),
    quick: options.quick === true,
    runtimes: options.runtimes,
    rows,
    failures,
  };
  await Deno.writeTextFile(jsonPath, JSON.stringify(data, null, 2) + "\n");
  const lanes: Lane[] = rows
    .filter((r) => NS_PER[r.unit] !== undefined)
    .map((r) => {
      const ns = (v: number | undefined) => (v === undefined ? undefined : v * NS_PER[r.unit]);
      return {
        label: `${r.runtime} · ${r.bench} · ${r.case}`,
        median: ns(r.median)!,
        p50: ns(r.p50),
        p90: ns(r.p90),
        p99: ns(r.p99),
        baseline: isBaseline(r),
      };
    });
  if (lanes.length === 0) return [jsonPath];
  await Deno.writeTextFile(svgPath, latencyChart(`wshm benchmarks, ${data.createdAt}`, lanes));
  return [jsonPath, svgPath];
}
