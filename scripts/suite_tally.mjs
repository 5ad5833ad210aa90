// The tally of a run of uvu suite processes, shared by scripts/test.mjs and
// scripts/aarch64.mjs: each suite's counts from uvu's summary, one line per
// suite (its output too when it failed), and the closing line
// "N passed, N failed[, N skipped]".

/** The counts uvu printed at the end of a suite's output (undefined where it printed none). */
export function uvuSummary(output) {
  const number = (label) => {
    const m = output.match(new RegExp(`${label}:\\s+(\\d+)`));
    return m ? Number(m[1]) : undefined;
  };
  return { total: number("Total"), passed: number("Passed"), skipped: number("Skipped") };
}

export class Tally {
  passed = 0;
  failed = 0;
  skipped = 0;

  /**
   * Counts one suite's process ({ code, signal, output, ms }) and prints its
   * line. A process that printed no summary, or exited non-zero with every
   * test passed, counts as one failure.
   */
  add(runtime, file, result) {
    const s = uvuSummary(result.output);
    const complete = s.total !== undefined && s.passed !== undefined;
    // uvu's Total counts only the tests it ran; skipped ones are reported apart.
    const fileFailed = complete ? s.total - s.passed : 0;
    const crashed = !complete || result.code !== 0;
    this.passed += complete ? s.passed : 0;
    this.skipped += complete ? s.skipped ?? 0 : 0;
    this.failed += fileFailed + (crashed && fileFailed === 0 ? 1 : 0);
    const tag = crashed || fileFailed > 0 ? "FAIL" : "ok  ";
    const counts = complete ? `${s.passed}/${s.total}` : "no summary";
    console.log(
      `${tag} ${runtime.padEnd(4)} ${file.padEnd(32)} ${counts.padStart(8)}  ${
        (result.ms / 1000).toFixed(1)
      }s`,
    );
    if (crashed || fileFailed > 0) {
      console.log(result.output.split("\n").map((l) => "     | " + l).join("\n"));
      if (!complete) console.log(`     | exit code ${result.code}, signal ${result.signal}`);
    }
  }

  /** The closing line. */
  line() {
    return `${this.passed} passed, ${this.failed} failed` + (this.skipped ? `, ${this.skipped} skipped` : "");
  }
}
