/**
 * A line chart of hit rate over time, one line per policy, as plain SVG:
 * the report stays one self-contained file with no chart library.
 */
export interface Series {
  name: string;
  points: Array<number | null>;
}

const palette = ["#7f7f7f", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];
const esc = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);

export function hitRateChart(series: Series[], xLabels: [string, string], width = 860, height = 320): string {
  const m = { l: 48, r: 150, t: 16, b: 36 };
  const w = width - m.l - m.r;
  const h = height - m.t - m.b;
  const n = Math.max(1, ...series.map((s) => s.points.length));
  const x = (i: number): number => m.l + (n <= 1 ? w / 2 : (i / (n - 1)) * w);
  const y = (v: number): number => m.t + (1 - v) * h;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
  );
  for (let g = 0; g <= 4; g++) {
    const v = g / 4;
    parts.push(`<line x1="${m.l}" x2="${m.l + w}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v * 100)}%</text>`);
  }
  parts.push(`<text x="${m.l}" y="${height - 8}">${esc(xLabels[0])}</text>`);
  parts.push(`<text x="${m.l + w}" y="${height - 8}" text-anchor="end">${esc(xLabels[1])}</text>`);
  series.forEach((s, k) => {
    const color = palette[k % palette.length] ?? "#000";
    let d = "";
    let pen = false;
    s.points.forEach((p, i) => {
      if (p === null) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(p).toFixed(1)}`;
      pen = true;
    });
    parts.push(
      `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"><title>${esc(s.name)}</title></path>`,
    );
    const ly = m.t + 14 + k * 18;
    parts.push(
      `<line x1="${m.l + w + 14}" x2="${m.l + w + 34}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`,
    );
    parts.push(`<text x="${m.l + w + 40}" y="${ly}">${esc(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("");
}

export { esc as escapeHtml };
