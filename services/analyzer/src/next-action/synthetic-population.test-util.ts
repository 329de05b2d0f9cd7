import { mulberry32 } from "@prescient/core";
import type { UserHistory } from "../store/analyzer-store.js";

/**
 * A synthetic user population whose action process is known exactly: the
 * next action depends on the last action and on the part of the day (six
 * 4-hour parts, UTC) of the moment it is predicted, through random but fixed
 * transition tables, and every session opens with "login" and closes with
 * "logout". Because the process is known, so is the best accuracy any
 * predictor can reach on it (Bayes-optimal): the mean of the largest true
 * probability at each prediction.
 */
export const syntheticActions = [
  "login",
  "search",
  "view_campaign",
  "view_report",
  "edit_campaign",
  "export",
  "logout",
] as const;

const dayparts = 6;
const hourMs = 3_600_000;

export interface Population {
  histories: UserHistory[];
  /** The true next-action distribution after `previous` done at `time`. */
  truth(previous: string, time: number): Map<string, number>;
}

export function syntheticPopulation(options: {
  users: number;
  sessionsPerUser: number;
  start: number;
  days: number;
  seed: number;
}): Population {
  const random = mulberry32(options.seed);
  const inner = syntheticActions.filter((a) => a !== "login");
  // table[daypart][previous] = distribution over the next action (never login: only sessions open with it).
  const table = Array.from(
    { length: dayparts },
    () =>
      new Map(
        syntheticActions.map((prev) => {
          const favourite = inner[Math.floor(random() * inner.length)]!;
          const mass = 0.5 + 0.3 * random();
          const rest = inner.map(() => random());
          const restSum = rest.reduce((a, b) => a + b, 0);
          const d = new Map<string, number>();
          for (const [i, a] of inner.entries())
            d.set(a, ((1 - mass) * rest[i]!) / restSum + (a === favourite ? mass : 0));
          // Sessions must end: at least 8% logout, renormalised.
          d.set("logout", Math.max(0.08, d.get("logout") ?? 0));
          const total = [...d.values()].reduce((a, b) => a + b, 0);
          for (const [a, p] of d) d.set(a, p / total);
          return [prev, d];
        }),
      ),
  );
  const daypart = (t: number): number => Math.floor(new Date(t).getUTCHours() / (24 / dayparts));
  const truth = (previous: string, time: number): Map<string, number> =>
    previous === "logout"
      ? new Map(syntheticActions.map((a) => [a, a === "login" ? 1 : 0]))
      : (table[daypart(time)] as Map<string, Map<string, number>>).get(previous)!;
  const sample = (d: Map<string, number>): string => {
    let u = random();
    for (const [a, p] of d) {
      u -= p;
      if (u <= 0) return a;
    }
    return "logout";
  };
  const histories: UserHistory[] = [];
  for (let u = 0; u < options.users; u++) {
    const starts = Array.from(
      { length: options.sessionsPerUser },
      () => options.start + Math.floor(random() * options.days * 24) * hourMs + Math.floor(random() * hourMs),
    ).sort((a, b) => a - b);
    const actions: Array<{ time: number; action: string }> = [];
    for (const s of starts) {
      let t = Math.max(s, (actions.at(-1)?.time ?? 0) + 31 * 60_000);
      let action = "login";
      actions.push({ time: t, action });
      while (action !== "logout") {
        const next = sample(truth(action, t));
        t += 60_000 + Math.floor(random() * 4 * 60_000);
        action = next;
        actions.push({ time: t, action });
      }
    }
    histories.push({ tenant: "acme", userId: `user-${u}`, actions });
  }
  return { histories, truth };
}
