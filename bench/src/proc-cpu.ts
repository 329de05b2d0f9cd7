import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Redis } from "ioredis";

/**
 * CPU time per operation, read from /proc: utime + stime of each process
 * involved (service processes, the load generator, redis-server), summed.
 * On a shared, noisy machine this is steadier than throughput, and it is
 * the figure that sizes a deployment.
 *
 *   const probe = await CpuProbe.start([process.pid, redisPid]);
 *   ... the measured phase ...
 *   const { totalUs, byPid } = await probe.stop();
 *   const usPerOp = totalUs / operations;
 *
 * /proc/<pid>/stat of a process counts all of its threads (worker threads,
 * redis-server's I/O threads), so one pid per process is enough; a pid
 * listed twice counts once. The resolution is one clock tick (10 ms at the
 * usual CLK_TCK of 100), so measure phases of seconds, not milliseconds.
 * Linux only.
 */
export interface CpuUsage {
  /** utime + stime over the phase, summed over every pid, in µs. */
  totalUs: number;
  /** The same per pid. */
  byPid: Map<number, number>;
  /** Wall-clock length of the phase, in µs. */
  wallUs: number;
}

export class CpuProbe {
  readonly #pids: readonly number[];
  readonly #before: Map<number, number>;
  readonly #startedAt: number;

  private constructor(pids: readonly number[]) {
    this.#pids = [...new Set(pids)];
    this.#startedAt = performance.now();
    this.#before = sample(this.#pids);
  }

  /** Takes the opening reading of `pids`; throws if one of them is not running. */
  static async start(pids: readonly number[]): Promise<CpuProbe> {
    return new CpuProbe(pids);
  }

  /** Takes the closing reading and answers the CPU spent in between. */
  async stop(): Promise<CpuUsage> {
    const after = sample(this.#pids);
    const byPid = new Map<number, number>();
    let totalUs = 0;
    for (const pid of this.#pids) {
      const us = (after.get(pid) ?? 0) - (this.#before.get(pid) ?? 0);
      byPid.set(pid, us);
      totalUs += us;
    }
    return { totalUs, byPid, wallUs: (performance.now() - this.#startedAt) * 1000 };
  }
}

let ticksPerSecond: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`); 100 if getconf is missing, as on nearly every Linux. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
      ticksPerSecond = Number.isInteger(n) && n > 0 ? n : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of one process so far, in µs. */
export function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Field 2 (comm) is in parentheses and may hold spaces or ')', so split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of stat(5); fields[0] here is field 3 (state).
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / clockTicksPerSecond();
}

function sample(pids: readonly number[]): Map<number, number> {
  return new Map(pids.map((pid) => [pid, processCpuUs(pid)]));
}

/** The pid of the redis-server behind `url`, from INFO server (for a Redis this process did not start). */
export async function redisServerPid(url: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info("server");
    const match = /^process_id:(\d+)/m.exec(info);
    if (match === null) throw new Error(`INFO server from ${url} names no process_id`);
    return Number(match[1]);
  } finally {
    redis.disconnect();
  }
}
