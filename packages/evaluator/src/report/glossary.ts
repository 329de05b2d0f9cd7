import type { ComputeReason } from "../sim/metrics.js";
import type { PolicyName } from "../sim/options.js";

/**
 * What the report's columns, policies and compute reasons mean, written once
 * from what metrics.ts and policy-run.ts compute: the HTML report shows it
 * under its tables and `prescient replay --help` prints it, so the two
 * cannot drift apart. rows.ts takes its headers from here for the same reason.
 */
export interface Term {
  term: string;
  meaning: string;
}

export const policyTerms: Readonly<Record<PolicyName, string>> = {
  none: "no cache at all: every read computes on demand. The floor: its hit rate is 0.",
  reactive: "cache-aside with each task type's TTL; nothing is computed before a read asks for it.",
  "static-topn":
    "cache-aside plus a daily batch at 02:00 UTC that computes the N keys most read since the previous batch.",
  prescient:
    "the mesh's own analyzer and precomputer under the replay's clock: event triggers, launch warming, " +
    "predicted next reads, refresh-ahead and the daily top-N, on top of cache-aside.",
  oracle:
    "knows every future read and computes each result just in time, from the same budget: " +
    "the upper bound of what precomputation can reach.",
};

export const reasonTerms: Readonly<Record<ComputeReason, string>> = {
  miss: "on demand: a read found no fresh result (or revalidates a stale one).",
  trigger: "an event's rule in the task-type configuration, or a manual request (prescient).",
  schedule: "the daily top-N batch (static-topn, prescient).",
  launch: "warming the results of a scheduled campaign launch (prescient).",
  predicted: "what a user is predicted to read next after a login or an action (prescient).",
  refresh: "refresh-ahead of a result near expiry that is still in demand (prescient).",
  oracle: "the oracle's just-in-time compute for a read it knows is coming.",
};

export const summaryColumns: readonly Term[] = [
  {
    term: "policy",
    meaning:
      "the precomputation policy replayed. Every policy sees the same reads, with its own cache, compute and budget.",
  },
  {
    term: "hit rate",
    meaning:
      "share of reads that found a fresh result (computed and not yet past its TTL). A stale result, " +
      "or waiting for a compute already running, is not a hit.",
  },
  {
    term: "vs oracle",
    meaning:
      "hit rate over the oracle's hit rate: the share of what the same budget can reach (1.00x: as good as the oracle).",
  },
  {
    term: "first-read",
    meaning:
      "hit rate on reads of a key never read before in the trace, which only a compute ahead of the read can serve.",
  },
  {
    term: "after-expiry",
    meaning:
      "hit rate on reads a TTL or more after the key's previous read, when a cache-aside result has expired.",
  },
  {
    term: "stale served",
    meaning:
      "reads served a result past its TTL but within its task type's stale grace (then recomputed); " +
      "in brackets, the mean time past expiry. Not hits.",
  },
  {
    term: "waste",
    meaning:
      "share of the computes, on demand or ahead, whose result expired or was replaced unread, of those " +
      "that resolved (results still fresh or computing at the end are left out).",
  },
  {
    term: "computes",
    meaning: "results computed in all: on demand (after a miss or to revalidate a stale result) and ahead.",
  },
  {
    term: "ahead",
    meaning:
      "computes started before any read asked for them (every reason but miss): these spend the budget.",
  },
  {
    term: "budget used",
    meaning:
      "ahead computes over the tokens the budget offered during the trace (its burst plus tasks/s × the " +
      "trace's length). On-demand computes are never refused and take no tokens.",
  },
  {
    term: "latency saved",
    meaning:
      "share of the on-demand compute latency that reads did not wait for: a hit or a stale read saves its " +
      "type's latency, a read that joins a running compute the part already done. 0% for none.",
  },
  {
    term: "pf accuracy",
    meaning:
      "of the ahead computes that resolved, the share whose result was read (or waited for) at least once. " +
      "A dash: the policy computes nothing ahead.",
  },
  {
    term: "pf coverage",
    meaning:
      "of the reads not served by an earlier on-demand result, the share served fresh by an ahead compute.",
  },
  {
    term: "pf timely",
    meaning:
      "of the ahead computes that were read, the share that landed before their first read (the rest " +
      "were late: the read waited for them).",
  },
];

export const byTypeColumns: readonly Term[] = [
  { term: "task type", meaning: "the task type of the trace's reads (the type part of each key)." },
  { term: "reads", meaning: "reads of that type in the trace." },
  { term: "one column per policy", meaning: "that policy's hit rate on reads of the type." },
];

export const byReasonColumns: readonly Term[] = [
  { term: "policy", meaning: "the policy replayed." },
  { term: "reason", meaning: "why the results were computed (see the reasons)." },
  { term: "computes", meaning: "results computed for the reason." },
  { term: "used", meaning: "of those, results read (or waited for) at least once." },
  {
    term: "wasted",
    meaning: "of those, results that expired or were replaced unread; the rest were still unread at the end.",
  },
  {
    term: "late",
    meaning: "of those, ahead computes whose first read found them still running, so the read waited.",
  },
  { term: "hits", meaning: "fresh hits served by results of the reason." },
  { term: "share of hits", meaning: "those hits over all of the policy's hits." },
];

export const calibrationColumns: readonly Term[] = [
  { term: "policy", meaning: "the policy replayed." },
  { term: "reason", meaning: "why the results were computed (see the reasons)." },
  {
    term: "probability",
    meaning:
      "the tenth of the chance of being read before expiry that the policy gave each result, by which its " +
      "budget admitted it (configured triggers, which are certain, carry none and are left out).",
  },
  {
    term: "resolved",
    meaning: "results of the reason in that tenth that were read, or expired (or were replaced) unread.",
  },
  { term: "mean probability", meaning: "the mean chance those results were given." },
  {
    term: "read share",
    meaning:
      "the share of them read at least once while fresh: where it is above the mean probability, the policy " +
      "undervalues that source; below it, the source wastes what the budget gives it. A result replaced " +
      "before it expired (by a refresh) is judged over the life it had, as the waste is.",
  },
];

export const withinReachColumns: readonly Term[] = [
  { term: "policy", meaning: "the policy replayed." },
  {
    term: "out of reach",
    meaning:
      "reads that are the first read of a key that nothing named before the instant it was read: no earlier " +
      "read of its run (the pages of a block's first request, block.0 to block.7; a key without a trailing " +
      "number is a run of its own) and no earlier event of its entity; and the key's reads while that first " +
      "read's compute still runs (a parallel reader of the same page). Over all reads. No online policy can " +
      "compute them first; only the oracle, which knows the future, hits them.",
  },
  { term: "hits there", meaning: "the policy's hits on those reads." },
  { term: "hit rate within reach", meaning: "the policy's hit rate on the other reads." },
  {
    term: "vs oracle within reach",
    meaning:
      "that hit rate over the oracle's on the same reads: the share of what is within reach that the policy gets.",
  },
  {
    term: "never named",
    meaning:
      "reads that are the first read of a key whose entity nothing named before the instant it was read: no " +
      "earlier event of the entity and no earlier read of it, of any task type. Over all reads. Wider than out " +
      "of reach: it also holds a key whose run was read before (block.3 after block.0), which only a guess " +
      "from the numbering of keys can reach (readahead). Where numbers carry no order, as ad ids drawn by " +
      "popularity, no policy that learns from what came before hits them.",
  },
  { term: "hits on unnamed", meaning: "the policy's hits on those reads." },
  {
    term: "vs oracle on named",
    meaning:
      "the policy's hit rate on the other reads over the oracle's on them: the share it gets of what the oracle " +
      "gets without knowing which new keys will be read.",
  },
];

const entries = (r: Readonly<Record<string, string>>): Term[] =>
  Object.entries(r).map(([term, meaning]) => ({ term, meaning }));

/** The glossary's sections, in the order the report's tables come; `table`: the table (rows.ts id) it explains. */
export const glossarySections: ReadonlyArray<{ heading: string; table: string; terms: readonly Term[] }> = [
  { heading: "Columns of the policy table", table: "policies", terms: summaryColumns },
  { heading: "The policies", table: "policies", terms: entries(policyTerms) },
  { heading: "Columns of the table by task type", table: "by-type", terms: byTypeColumns },
  { heading: "Columns of the table by reason", table: "by-reason", terms: byReasonColumns },
  { heading: "Reasons a result was computed", table: "by-reason", terms: entries(reasonTerms) },
  { heading: "Columns of the table within reach", table: "within-reach", terms: withinReachColumns },
  { heading: "Columns of the calibration table", table: "calibration", terms: calibrationColumns },
];

/** Words of `text` in lines of at most `width` characters (a longer word stands alone). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** The glossary as plain text for a terminal: terms in a column, meanings wrapped beside them. */
export function glossaryText(width = 100): string {
  const out: string[] = [];
  for (const s of glossarySections) {
    const pad = Math.max(...s.terms.map((t) => t.term.length)) + 4;
    out.push(`${s.heading}:`);
    for (const t of s.terms) {
      const lines = wrap(t.meaning, Math.max(20, width - pad));
      lines.forEach((l, i) => {
        out.push(`${(i === 0 ? `  ${t.term}` : "").padEnd(pad)}${l}`);
      });
    }
    out.push("");
  }
  return out.join("\n");
}
