import { readFileSync } from "node:fs";

/** One reading of one process. */
export interface ProcSample {
  /** ms since the soak started. */
  t: number;
  pid: number;
  rssKiB: number;
  /** CPU used since the previous reading of the same pid, as % of one core; null on a pid's first reading. */
  cpuPct: number | null;
}

/**
 * Linux clock ticks per second for /proc/<pid>/stat's utime and stime. It is
 * 100 on every Linux build Node supports (USER_HZ), and reading it would need
 * a native getconf call.
 */
const clockTicks = 100;

/** VmRSS (KiB) from /proc/<pid>/status; undefined when the process is gone. */
export function readRssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m?.[1] !== undefined ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** utime + stime in ticks from /proc/<pid>/stat; undefined when the process is gone. */
export function readCpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the name, field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/**
 * Reads RSS and CPU of every named process on an interval. Processes are
 * named by role and looked up on each reading, so a restarted service (new
 * pid) keeps one series.
 */
export class ProcSampler {
  readonly series = new Map<string, ProcSample[]>();
  readonly #last = new Map<string, { pid: number; ticks: number; at: number }>();
  readonly #pids: () => Record<string, number | undefined>;
  readonly #start: number;
  #timer: NodeJS.Timeout | undefined;

  /** `pids` answers the current pid of each role (undefined while it is down). */
  constructor(pids: () => Record<string, number | undefined>, start: number) {
    this.#pids = pids;
    this.#start = start;
  }

  start(intervalMs: number): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  sample(): void {
    const now = Date.now();
    for (const [role, pid] of Object.entries(this.#pids())) {
      if (pid === undefined) continue;
      const rssKiB = readRssKiB(pid);
      const ticks = readCpuTicks(pid);
      if (rssKiB === undefined || ticks === undefined) continue;
      const prev = this.#last.get(role);
      const cpuPct =
        prev !== undefined && prev.pid === pid && now > prev.at
          ? ((ticks - prev.ticks) / clockTicks / ((now - prev.at) / 1000)) * 100
          : null;
      this.#last.set(role, { pid, ticks, at: now });
      let s = this.series.get(role);
      if (s === undefined) {
        s = [];
        this.series.set(role, s);
      }
      s.push({ t: now - this.#start, pid, rssKiB, cpuPct });
    }
  }
}
