import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { inCi } from "@prescient/kit/testing";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReplayReport, replay } from "../sim/replay.js";
import { generate } from "../workload/kinds.js";
import { RowsTraceSource } from "../workload/output.js";
import { renderHtml } from "./html.js";

/**
 * The HTML report as its reader sees it: a small generated workload replayed
 * through the evaluator's API, rendered by headless Chromium (Debian's
 * `chromium`, which .ci/run installs), checked in the page and as a
 * screenshot. Without Chromium this skips, except in CI, where a skipped
 * check would pass unnoticed.
 */
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const haveChromium = existsSync(chromium);
const missing = `no Chromium at ${chromium} (apt-get install chromium, or set CHROMIUM_PATH)`;

if (!haveChromium && inCi) it("finds Chromium", () => expect.fail(`${missing}: .ci/run installs it`));
else if (!haveChromium)
  process.stderr.write(`html-report.test.ts: skipping the browser checks: ${missing}\n`);

/** What the page says about itself (see `probe`). */
interface Probe {
  series: Array<{
    name: string;
    length: number;
    strokeWidth: number;
    stroke: string;
    opacity: number;
    bottom: number;
  }>;
  topmost: string | null;
  axisY: number;
  xTicks: string[];
  yTicks: string[];
  titles: string[];
  legend: string[];
  tables: Record<string, { rows: string[]; headers: string[]; headerTitles: string[]; terms: string[] }>;
}

/*
 * Runs in the page, so it is browser JavaScript in a string: the project's
 * TypeScript has no DOM types, and giving it them would hide DOM globals
 * used by mistake in Node code.
 */
const probe = `(() => {
  const svg = document.querySelector("svg.chart");
  const groups = [...svg.querySelectorAll("g.series")];
  const series = groups.map((g) => {
    const path = g.querySelector("path");
    const box = path.getBBox();
    const style = getComputedStyle(path);
    return {
      name: g.dataset.series,
      length: path.getTotalLength(),
      strokeWidth: parseFloat(style.strokeWidth),
      stroke: style.stroke,
      opacity: parseFloat(style.opacity) * parseFloat(getComputedStyle(g).opacity),
      bottom: box.y + box.height,
    };
  });
  // The element on top at a point inside a dash (7 on, 5 off) of the line of none, halfway along.
  const zero = svg.querySelector('g.series[data-series="none"] path');
  const at = zero.getPointAtLength(3 + 12 * Math.floor(zero.getTotalLength() / 24));
  const screen = new DOMPoint(at.x, at.y).matrixTransform(zero.getScreenCTM());
  const hit = document.elementFromPoint(screen.x, screen.y);
  const tables = {};
  for (const s of document.querySelectorAll("section[data-table]")) {
    const ths = [...s.querySelectorAll("thead th")];
    tables[s.dataset.table] = {
      rows: [...s.querySelectorAll("tbody tr")].map((tr) => tr.dataset.row),
      headers: ths.map((th) => th.textContent),
      headerTitles: ths.map((th) => th.title),
      terms: [...s.querySelectorAll(".glossary dt")].map((dt) => dt.textContent),
    };
  }
  return JSON.stringify({
    series,
    topmost: hit?.closest("g.series")?.dataset.series ?? null,
    axisY: Number(svg.querySelector("line.x-axis").getAttribute("y1")),
    xTicks: [...svg.querySelectorAll("text.x-tick")].map((t) => t.textContent),
    yTicks: [...svg.querySelectorAll("text.y-tick")].map((t) => t.textContent),
    titles: [...svg.querySelectorAll("text.axis-title")].map((t) => t.textContent),
    legend: [...svg.querySelectorAll("g.legend-item")].map((g) => g.dataset.series),
    tables,
  });
})()`;

/** Decodes a PNG in the page: the share of pixels that are not near-white, and how many colours. */
const ink = (png: Uint8Array): string => `(async () => {
  const img = new Image();
  img.src = "data:image/png;base64,${Buffer.from(png).toString("base64")}";
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = img.width;
  canvas.height = img.height;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, img.width, img.height).data;
  let inked = 0;
  const colours = new Set();
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] < 230 || d[i + 1] < 230 || d[i + 2] < 230) inked++;
    colours.add((d[i] >> 4) * 256 + (d[i + 1] >> 4) * 16 + (d[i + 2] >> 4));
  }
  return JSON.stringify({ inked: inked / (d.length / 4), colours: colours.size });
})()`;

/** Width and height from a PNG's IHDR chunk. */
const pngSize = (png: Uint8Array): [number, number] => {
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return [v.getUint32(16), v.getUint32(20)];
};

const iso = /\d{4}-\d{2}-\d{2}T|\d{2}:\d{2}:\d{2}(\.\d+)?Z/;

describe.skipIf(!haveChromium)(
  `the HTML report in headless Chromium${haveChromium ? "" : ` (skipped: ${missing})`}`,
  () => {
    let browser: Browser | undefined;
    let page: Page;
    let report: ReplayReport;
    // Made in beforeAll, which a skipped describe does not run: its body does.
    let dir = "";

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "prescient-report-"));
      // One day of sessions: a line per policy, `none` on 0%, and two policies whose lines coincide.
      const w = generate("sessions", 1, 1);
      report = await replay(new RowsTraceSource("sessions", w.rows));
      const html = join(dir, "report.html");
      writeFileSync(html, renderHtml(report));
      browser = await puppeteer.launch({
        executablePath: chromium,
        headless: true,
        // Root in a container: Chromium's sandbox needs user namespaces it may not have.
        args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
      });
      page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      await page.goto(pathToFileURL(html).href, { waitUntil: "load" });
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
    });

    it("draws every policy visibly, the zero line on top and above the axis", async () => {
      const p = JSON.parse((await page.evaluate(probe)) as string) as Probe;
      const names = report.policies.map((x) => x.policy);
      expect(names).toContain("none");
      expect(report.policies.find((x) => x.policy === "none")?.hitRate).toBe(0);
      expect(p.series.map((s) => s.name).sort()).toEqual([...names].sort());
      for (const s of p.series) {
        expect(s.length, s.name).toBeGreaterThan(100);
        expect(s.strokeWidth, s.name).toBeGreaterThanOrEqual(2);
        expect(s.stroke, s.name).not.toMatch(/none|transparent|rgba\(.*, 0\)/);
        expect(s.opacity, s.name).toBe(1);
      }
      expect(new Set(p.series.map((s) => s.stroke)).size).toBe(p.series.length);
      // `none` lies on 0%: it is drawn last, nothing covers it, and the axis line is below it, not on it.
      expect(p.series.at(-1)?.name).toBe("none");
      expect(p.topmost).toBe("none");
      const none = p.series.find((s) => s.name === "none");
      expect(none?.bottom).toBeLessThan(p.axisY - 2);
      expect(p.legend).toEqual(names);
    });

    it("labels the axes for a person: several ticks, no ISO timestamps, titles on both axes", async () => {
      const p = JSON.parse((await page.evaluate(probe)) as string) as Probe;
      expect(p.xTicks.length).toBeGreaterThanOrEqual(4);
      for (const t of p.xTicks) {
        expect(t).not.toMatch(iso);
        // The workload starts on Monday 2024-01-01: weekday and time of day.
        expect(t).toMatch(/^(Mon|Tue) \d{2}:00$/);
      }
      expect(p.yTicks.length).toBeGreaterThanOrEqual(3);
      for (const t of p.yTicks) expect(t).toMatch(/^\d+%$/);
      expect(p.titles).toHaveLength(2);
      for (const t of p.titles) {
        expect(t.trim()).not.toBe("");
        expect(t).not.toMatch(iso);
      }
      expect(p.titles.join(" | ")).toMatch(/time/);
      expect(p.titles.join(" | ")).toMatch(/hit rate/);
    });

    it("has the results table, one row per policy, with every column explained", async () => {
      const p = JSON.parse((await page.evaluate(probe)) as string) as Probe;
      const t = p.tables.policies;
      expect(t?.rows).toEqual(report.policies.map((x) => x.policy));
      for (const h of t?.headers ?? []) expect(t?.terms, h).toContain(h);
      for (const title of t?.headerTitles ?? []) expect(title.length).toBeGreaterThan(10);
      expect(t?.terms).toEqual(expect.arrayContaining(report.policies.map((x) => x.policy)));
      for (const id of ["by-type", "by-reason"]) {
        expect(p.tables[id]?.rows.length, id).toBeGreaterThan(0);
        expect(p.tables[id]?.terms.length, id).toBeGreaterThan(2);
      }
    });

    it("renders to a screenshot that is not blank", async () => {
      const png = await page.screenshot({ path: join(dir, "report.png"), fullPage: true });
      const [width, height] = pngSize(png);
      expect(width).toBe(1280);
      expect(height).toBeGreaterThan(900);
      const chart = await (await page.$("svg.chart"))!.screenshot({ path: join(dir, "chart.png") });
      const whole = JSON.parse((await page.evaluate(ink(png))) as string) as {
        inked: number;
        colours: number;
      };
      const lines = JSON.parse((await page.evaluate(ink(chart))) as string) as {
        inked: number;
        colours: number;
      };
      expect(whole.inked).toBeGreaterThan(0.03);
      expect(lines.inked).toBeGreaterThan(0.03);
      // The palette's colours and their anti-aliasing, not one or two flat colours.
      expect(lines.colours).toBeGreaterThan(20);
      process.stderr.write(`HTML report screenshot: ${join(dir, "report.png")}\n`);
    });
  },
);
