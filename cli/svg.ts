// The SVG chart `wshm bench` writes: one horizontal lane per measured case,
// on a logarithmic time axis (latencies span ns to ms), with a bar to p50, a
// thinner bar to p99 and a tick at the median of medians. Self-contained SVG,
// no scripts, readable in a browser or an image viewer.

/** One lane of the chart; times in nanoseconds. */
export interface Lane {
  label: string;
  median: number;
  p50?: number;
  p90?: number;
  p99?: number;
  baseline: boolean;
}

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

function formatNs(ns: number): string {
  if (ns < 1000) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${+(ns / 1000).toPrecision(3)} µs`;
  if (ns < 1e9) return `${+(ns / 1e6).toPrecision(3)} ms`;
  return `${+(ns / 1e9).toPrecision(3)} s`;
}

// A generous average advance of a 12 px sans-serif character (digits and
// capitals are ~6.7 px, "m" and "W" more): labels are sized from it, never cut.
const CHAR_WIDTH = 7.2;

/** The width a label needs at font-size 12, in px (over-estimated, so that it fits). */
export function labelWidthOf(text: string): number {
  return Math.ceil([...text].length * CHAR_WIDTH);
}

/**
 * Renders the latency lanes as an SVG document. The label column is as wide
 * as the longest label (right-aligned against the plot), so no label is cut.
 */
export function latencyChart(title: string, lanes: Lane[]): string {
  const labelWidth = Math.max(160, 24 + Math.max(0, ...lanes.map((l) => labelWidthOf(l.label))));
  const plotWidth = 560;
  const laneHeight = 26;
  const top = 54;
  const height = top + lanes.length * laneHeight + 48;
  const width = labelWidth + plotWidth + 200; // room for the value labels right of the bars
  const values = lanes.flatMap((l) =>
    [l.median, l.p50, l.p99].filter((v): v is number => v !== undefined && v > 0)
  );
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values, 1e3)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values, 1e3) * 1.01));
  const x = (ns: number) =>
    labelWidth +
    (Math.log10(Math.max(ns, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * plotWidth;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="24" font-size="16" font-weight="bold">${escape(title)}</text>`,
    `<text x="12" y="42" fill="#555">bar: p50 · thin bar: p99 · tick: median of runs · log scale · baselines in grey</text>`,
  ];
  for (let decade = lo; decade <= hi; decade *= 10) {
    const gx = x(decade).toFixed(1);
    parts.push(
      `<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${height - 36}" stroke="#ddd"/>`,
      `<text x="${gx}" y="${height - 20}" text-anchor="middle" fill="#555">${formatNs(decade)}</text>`,
    );
  }
  lanes.forEach((lane, i) => {
    const y = top + i * laneHeight;
    const colour = lane.baseline ? "#9e9e9e" : "#1f77b4";
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end"><title>${escape(lane.label)}</title>${
        escape(lane.label)
      }</text>`,
    );
    if (lane.p99 !== undefined) {
      parts.push(
        `<rect x="${labelWidth}" y="${y + 9}" width="${
          (x(lane.p99) - labelWidth).toFixed(1)
        }" height="4" fill="${colour}" opacity="0.45"/>`,
      );
    }
    const p50 = lane.p50 ?? lane.median;
    parts.push(
      `<rect x="${labelWidth}" y="${y + 4}" width="${
        (x(p50) - labelWidth).toFixed(1)
      }" height="14" fill="${colour}" opacity="0.8"/>`,
      `<line x1="${x(lane.median).toFixed(1)}" y1="${y + 1}" x2="${x(lane.median).toFixed(1)}" y2="${
        y + 21
      }" stroke="black" stroke-width="2"/>`,
      `<text x="${(Math.max(x(lane.p99 ?? p50), x(lane.median)) + 6).toFixed(1)}" y="${
        y + 15
      }" fill="#333">` +
        `${formatNs(p50)}${lane.p99 !== undefined ? ` / p99 ${formatNs(lane.p99)}` : ""}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}
