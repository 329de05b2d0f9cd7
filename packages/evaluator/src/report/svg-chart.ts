import { timeAxis } from "./time-axis.js";

/**
 * A line chart of a share (0..1) over time, one line per series, as plain
 * SVG: the report stays one self-contained file with no chart library.
 *
 * Every series must stay visible, also where lines coincide (two policies
 * with the same hit rate) or lie on zero (`none`): each has its own colour
 * and dash, lines are drawn from the highest to the lowest (so a line on
 * zero is on top), each a little thinner than the one under it (so one
 * that covers another leaves it showing at its edges), and the x axis sits
 * below the 0% line rather than on it.
 */
export interface Series {
  /** Identifies the line (`data-series`), e.g. the policy. */
  name: string;
  /** The legend's text. */
  label: string;
  points: Array<number | null>;
}

export interface TimeChart {
  /** For screen readers: what the chart shows. */
  title: string;
  yTitle: string;
  /** Above the legend: what its entries are. */
  legendTitle: string;
  series: Series[];
  /** Start of the first point's time bin, and the bins' width, ms. */
  startMs: number;
  binMs: number;
}

/** Okabe and Ito's colour-blind-safe palette, dark grey first for the baseline (`none`). */
const palette = ["#4d4d4d", "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9"];
/** Dash patterns, one per series, so lines stay apart in grey print and where colours coincide. */
const dashes = ["7 5", "", "12 5", "5 4", "14 4 3 4", "2 3", "9 3"];

const esc = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);

const mean = (points: Array<number | null>): number => {
  const xs = points.filter((p): p is number => p !== null);
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
};

/** The y axis' top and step: round percentages, up to 100%. */
function yScale(max: number): { top: number; step: number } {
  const step = max <= 0.25 ? 0.05 : max <= 0.5 ? 0.1 : 0.2;
  return { top: Math.min(1, Math.max(step * 2, Math.ceil(max / step - 1e-9) * step)), step };
}

export function timeChart(c: TimeChart, width = 920, height = 380): string {
  const m = { l: 72, r: 210, t: 16, b: 70 };
  const w = width - m.l - m.r;
  const h = height - m.t - m.b;
  const n = Math.max(1, ...c.series.map((s) => s.points.length));
  const endMs = c.startMs + n * c.binMs;
  const x = (t: number): number => m.l + ((t - c.startMs) / (endMs - c.startMs)) * w;
  const max = Math.max(0, ...c.series.flatMap((s) => s.points.filter((p): p is number => p !== null)));
  const { top, step } = yScale(max);
  const y = (v: number): number => m.t + (1 - v / top) * h;
  const axisY = m.t + h + 8;
  const f = (v: number): string => v.toFixed(1);
  const parts: string[] = [
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(c.title)}" font-family="sans-serif" font-size="12" fill="#333">`,
  ];
  const axis = timeAxis(c.startMs, endMs, 9);
  for (const t of axis.ticks) {
    const tx = f(x(t.at));
    parts.push(`<line x1="${tx}" x2="${tx}" y1="${m.t}" y2="${m.t + h}" stroke="#f0f0f0"/>`);
  }
  for (let k = 0; k * step <= top + 1e-9; k++) {
    const v = k * step;
    parts.push(`<line x1="${m.l}" x2="${m.l + w}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#e3e3e3"/>`);
    parts.push(
      `<text class="tick y-tick" x="${m.l - 8}" y="${f(y(v) + 4)}" text-anchor="end">${Math.round(v * 100)}%</text>`,
    );
  }
  parts.push(`<line class="x-axis" x1="${m.l}" x2="${m.l + w}" y1="${axisY}" y2="${axisY}" stroke="#888"/>`);
  for (const t of axis.ticks) {
    const tx = f(x(t.at));
    parts.push(`<line x1="${tx}" x2="${tx}" y1="${axisY}" y2="${axisY + 5}" stroke="#888"/>`);
    parts.push(
      `<text class="tick x-tick" x="${tx}" y="${axisY + 19}" text-anchor="middle">${esc(t.label)}</text>`,
    );
  }
  parts.push(
    `<text class="axis-title x-title" x="${m.l + w / 2}" y="${height - 12}" text-anchor="middle" font-size="13">${esc(axis.title)}</text>`,
    `<text class="axis-title y-title" transform="translate(18 ${m.t + h / 2}) rotate(-90)" text-anchor="middle" font-size="13">${esc(c.yTitle)}</text>`,
  );
  const styled = c.series.map((s, k) => ({
    s,
    k,
    color: palette[k % palette.length] ?? "#000",
    dash: dashes[k % dashes.length] ?? "",
    mean: mean(s.points),
  }));
  // Highest first, so that the lowest, often a line on 0%, is drawn last, on top.
  const order = [...styled].sort((a, b) => b.mean - a.mean || a.k - b.k);
  const widthOf = new Map(order.map((o, rank) => [o.k, 2 + (order.length - 1 - rank)]));
  const stroke = (o: (typeof styled)[number]): string =>
    `stroke="${o.color}" stroke-width="${widthOf.get(o.k)?.toFixed(1)}"${o.dash === "" ? "" : ` stroke-dasharray="${o.dash}"`}`;
  for (const o of order) {
    let d = "";
    const dots: string[] = [];
    o.s.points.forEach((p, i) => {
      if (p === null) return;
      const px = f(x(c.startMs + (i + 0.5) * c.binMs));
      const before = o.s.points[i - 1] ?? null;
      const after = o.s.points[i + 1] ?? null;
      d += `${before === null ? "M" : "L"}${px},${f(y(p))}`;
      // A point between two bins without reads makes no line: it shows as a dot.
      if (before === null && after === null)
        dots.push(
          `<circle cx="${px}" cy="${f(y(p))}" r="${widthOf.get(o.k)?.toFixed(1)}" fill="${o.color}"/>`,
        );
    });
    parts.push(
      `<g class="series" data-series="${esc(o.s.name)}"><title>${esc(o.s.label)}</title><path d="${d}" fill="none" ${stroke(o)} stroke-linejoin="round"/>${dots.join("")}</g>`,
    );
  }
  const lx = m.l + w + 20;
  parts.push(`<text x="${lx}" y="${m.t + 4}" fill="#666">${esc(c.legendTitle)}</text>`);
  for (const o of styled) {
    const ly = m.t + 28 + o.k * 24;
    parts.push(
      `<g class="legend-item" data-series="${esc(o.s.name)}"><line x1="${lx}" x2="${lx + 36}" y1="${ly - 4}" y2="${ly - 4}" ${stroke(o)}/><text x="${lx + 44}" y="${ly}">${esc(o.s.label)}</text></g>`,
    );
  }
  parts.push("</svg>");
  return parts.join("");
}

export { esc as escapeHtml };
