import type { Workload } from "./kinds.js";
import { dailyAmplitude, fitZipfExponent } from "./zipf.js";

/**
 * Checks that a generated workload has the statistics it was asked for:
 * the fitted Zipf exponent of each popularity component (within windows
 * where its ranks do not drift), its daily amplitude, the Markov session
 * transition frequencies, and the share of events followed by their reads.
 */
export interface Check {
  name: string;
  expected: number;
  actual: number;
  tolerance: number;
  ok: boolean;
}

const check = (name: string, expected: number, actual: number, tolerance: number): Check => ({
  name,
  expected,
  actual,
  tolerance,
  ok: Math.abs(actual - expected) <= tolerance,
});

/**
 * One check as a line, numbers to three decimals: the tolerances are computed
 * (four standard errors), and their full float digits say nothing more.
 */
export function formatCheck(c: Check): string {
  return `${c.ok ? "ok  " : "FAIL"} ${c.name}: expected ${c.expected.toFixed(3)} ± ${c.tolerance.toFixed(3)}, got ${c.actual.toFixed(3)}`;
}

export function validateWorkload(w: Workload): Check[] {
  const checks: Check[] = [];
  const start = w.rows[0]?.time ?? 0;
  for (const p of w.popularity) {
    const rows = w.rows.filter(
      (r) => r.event === "" && r.taskType === p.taskType && r.entity.startsWith(p.prefix),
    );
    const window = p.driftEveryMs > 0 ? p.driftEveryMs : Number.POSITIVE_INFINITY;
    const windows = new Map<number, Map<string, number>>();
    const hourly: number[] = [];
    for (const r of rows) {
      const k = Math.floor((r.time - start) / window);
      const m = windows.get(k) ?? new Map<string, number>();
      m.set(r.entity, (m.get(r.entity) ?? 0) + 1);
      windows.set(k, m);
      const h = Math.floor((r.time - start) / 3_600_000);
      hourly[h] = (hourly[h] ?? 0) + 1;
    }
    const fits = [...windows.values()].map((m) => fitZipfExponent(m.values())).filter(Number.isFinite);
    const fitted = fits.reduce((a, b) => a + b, 0) / Math.max(1, fits.length);
    checks.push(check(`${p.taskType}: fitted Zipf exponent`, p.exponent, fitted, 0.2));
    // A weekly cycle is its own check; the daily one is measured on weekdays only.
    const weekdays = hourly.map((c, h) => {
      const dow = (Math.floor((start + h * 3_600_000) / 86_400_000) + 4) % 7;
      return dow === 0 || dow === 6 ? undefined : (c ?? 0);
    });
    const days = weekdays.filter((c): c is number => c !== undefined);
    if (days.length >= 24)
      checks.push(check(`${p.taskType}: daily amplitude`, p.cycle.amplitude, dailyAmplitude(days), 0.1));
  }
  if (w.session !== undefined) {
    const s = w.session;
    const typeToState = new Map(Object.entries(s.actions).map(([state, a]) => [a.taskType, state]));
    const counts = new Map<string, Map<string, number>>();
    const last = new Map<string, string>();
    for (const r of w.rows) {
      if (r.user === "") continue;
      if (r.event !== "") {
        // Only a login starts a session; a user's other events (uploads, launches) are no step of it.
        if (r.event !== s.login) continue;
        const prev = last.get(r.user);
        if (prev !== undefined) bump(counts, prev, "end");
        last.delete(r.user);
        continue;
      }
      const state = typeToState.get(r.taskType);
      if (state === undefined) continue;
      const prev = last.get(r.user);
      if (prev !== undefined) bump(counts, prev, state);
      last.set(r.user, state);
    }
    // Sessions still open at the end of the trace ended there.
    for (const prev of last.values()) bump(counts, prev, "end");
    for (const [from, row] of Object.entries(s.transitions)) {
      const observed = counts.get(from);
      const total = [...(observed?.values() ?? [])].reduce((a, b) => a + b, 0);
      if (total < 200) continue;
      // Four standard errors of a share of `total` draws: a sound tolerance at any length.
      for (const [to, p] of row)
        checks.push(
          check(
            `session ${from} → ${to}`,
            p,
            (observed?.get(to) ?? 0) / total,
            4 * Math.sqrt((p * (1 - p)) / total) + 0.01,
          ),
        );
    }
  }
  for (const [name, spec] of Object.entries(w.eventReads)) {
    const at = new Map(w.rows.filter((r) => r.event === name).map((r) => [r.entity, r.time]));
    const window = spec.delayMs;
    const read = new Set<string>();
    for (const r of w.rows) {
      if (r.event !== "" || !spec.types.includes(r.taskType)) continue;
      const t = at.get(r.entity);
      if (t === undefined) continue;
      // With a window, the entity's other reads (its owner's session, a launch) are not this event's.
      if (window && (r.user !== "" || r.time < t + window[0] - 1 || r.time > t + window[1] + 1)) continue;
      read.add(`${r.entity}/${r.taskType}`);
    }
    const announced = at.size * spec.types.length;
    // Each announced result is read or not, independently: four standard errors, at least 0.05.
    const p = spec.probability;
    if (announced > 0)
      checks.push(
        check(
          `${name}: share of announced results read`,
          p,
          read.size / announced,
          Math.max(0.05, 4 * Math.sqrt((p * (1 - p)) / announced) + 0.01),
        ),
      );
  }
  if (w.structure !== undefined) checks.push(ownedShare(w));
  return checks;
}

/**
 * random-adplatform: the share of session reads keyed by a campaign (or one of
 * its ads) that the reading user created earlier, which must be all of them.
 */
function ownedShare(w: Workload): Check {
  const keyBy = new Map(Object.values(w.session?.actions ?? {}).map((a) => [a.taskType, a.keyBy]));
  const owner = new Map<string, string>();
  let reads = 0;
  let owned = 0;
  for (const r of w.rows) {
    if (r.event === "campaign_created") owner.set(r.entity, r.user);
    const k = keyBy.get(r.taskType);
    if (r.event !== "" || r.user === "" || k === undefined || k === "user") continue;
    reads++;
    if (owner.get(k === "ad" ? r.entity.replace(/-ad\d+$/, "") : r.entity) === r.user) owned++;
  }
  return check("session reads of the user's own campaigns", 1, reads > 0 ? owned / reads : 0, 0);
}

function bump(m: Map<string, Map<string, number>>, from: string, to: string): void {
  const row = m.get(from) ?? new Map<string, number>();
  row.set(to, (row.get(to) ?? 0) + 1);
  m.set(from, row);
}
