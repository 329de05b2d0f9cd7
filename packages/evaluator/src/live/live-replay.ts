import type { ReplayReport } from "../sim/replay.js";
import type { TraceSource } from "../trace/record.js";

export interface LiveOptions {
  addr: string;
  speed: number;
}

export interface LiveResult {
  text: string;
}

export async function liveReplay(_s: TraceSource, _r: ReplayReport, _o: LiveOptions): Promise<LiveResult> {
  return { text: "live mode (--live) is not implemented yet: the numbers above are the simulation only\n" };
}
