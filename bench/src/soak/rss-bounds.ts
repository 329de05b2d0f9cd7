import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import type { ProcessSummary } from "./soak-report.js";

/**
 * Each process's RSS bound: the memory limit its container gets in
 * deploy/base. That limit is what the deployment promises — the process's
 * configured state bounds (store, sketch and queue capacities, models) plus
 * the runtime's own overhead (V8 heap headroom, ONNX Runtime arenas) — so a
 * process past it in the soak would be OOM-killed in Kubernetes.
 */
export interface RssVerdict {
  role: string;
  boundMiB: number;
  peakMiB: number;
  withinBound: boolean;
  /** The load's growth given back after it stopped (see rssVerdicts). */
  cameDown: boolean;
  /** RSS levelled off under the load rather than rising to its end (see rssVerdicts). */
  heldFlat: boolean;
}

/** Whether a verdict fails the soak: past the limit, or kept what the load added while still rising. */
export function rssFailed(v: RssVerdict): boolean {
  return !v.withinBound || (!v.cameDown && !v.heldFlat);
}

const base = fileURLToPath(new URL("../../../deploy/base/", import.meta.url));

/** Growth under this is noise, whatever came back. */
const smallGrowthMiB = 32;
/** How far the load's last third may rise above its middle third and still count as level. */
const flatSlackMiB = 8;

/** The limit of deploy/base/<role>.yaml's first container, in MiB; undefined without one. */
export function deployedLimitMiB(role: string, dir: string = base): number | undefined {
  let text: string;
  try {
    text = readFileSync(`${dir}${role}.yaml`, "utf8");
  } catch {
    return undefined;
  }
  for (const doc of parseAllDocuments(text)) {
    const o = doc.toJS() as {
      kind?: string;
      spec?: { template?: { spec?: { containers?: { resources?: { limits?: { memory?: string } } }[] } } };
    };
    if (o?.kind !== "Deployment" && o?.kind !== "StatefulSet") continue;
    const memory = o.spec?.template?.spec?.containers?.[0]?.resources?.limits?.memory;
    if (memory !== undefined) return toMiB(memory);
  }
  return undefined;
}

/** Kubernetes quantities as the manifests write them: Mi, Gi, and plain bytes. */
export function toMiB(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi)?$/.exec(quantity.trim());
  if (m === null) throw new Error(`unsupported memory quantity ${JSON.stringify(quantity)}`);
  const n = Number(m[1]);
  switch (m[2]) {
    case "Ki":
      return n / 1024;
    case "Mi":
      return n;
    case "Gi":
      return n * 1024;
    default:
      return n / (1024 * 1024);
  }
}

/**
 * A verdict per process with a deployed limit: its peak within the limit, and
 * no sign of a leak. A process shows none when it gives back at least half
 * of the load's growth after the load (or the load added under 32 MiB), or
 * when its RSS levelled off under the load: the last third's largest reading
 * at most 8 MiB above the middle third's. A process with a bounded working
 * set (the cache's near cache, a V8 heap grown to its load) keeps that set
 * after the load, so the first test alone failed it on a transient peak
 * early in the run (the cache at 135 MiB, a 185 MiB spike after Redis's
 * restart, 161-163 MiB for the rest of the load and after it); a leak keeps
 * rising through the load and fails both. Processes without a manifest of
 * their own are left out.
 */
export function rssVerdicts(processes: Record<string, ProcessSummary>, dir: string = base): RssVerdict[] {
  const verdicts: RssVerdict[] = [];
  for (const [role, p] of Object.entries(processes)) {
    const bound = deployedLimitMiB(role, dir);
    if (bound === undefined) continue;
    const growth = p.peakMiB - p.startMiB;
    verdicts.push({
      role,
      boundMiB: bound,
      peakMiB: p.peakMiB,
      withinBound: p.peakMiB <= bound,
      cameDown: growth < smallGrowthMiB || p.afterLoadMiB <= p.startMiB + growth / 2,
      heldFlat: p.loadThirdsMiB !== undefined && p.loadThirdsMiB[2] <= p.loadThirdsMiB[1] + flatSlackMiB,
    });
  }
  return verdicts;
}
