import type { AlertThresholds } from "./config.js";
import type { LoadSample } from "./ports.js";

export interface Alert {
  name: "queue_depth_high" | "hit_rate_low";
  firing: boolean;
  value: number | undefined;
  threshold: number;
  message: string;
}

/**
 * The original system's alert rules: queue depth above 100 and cache hit
 * rate below 80% (both from configuration). A signal that could not be read
 * does not fire.
 */
export function evaluateAlerts(load: LoadSample, t: AlertThresholds): Alert[] {
  const depth = load.queueDepth;
  const hitRate = load.hitRate;
  return [
    {
      name: "queue_depth_high",
      firing: depth !== undefined && depth > t.queueDepthAbove,
      value: depth,
      threshold: t.queueDepthAbove,
      message: `executor queue depth ${depth ?? "unknown"} (alert above ${t.queueDepthAbove})`,
    },
    {
      name: "hit_rate_low",
      firing: hitRate !== undefined && hitRate < t.hitRateBelow,
      value: hitRate,
      threshold: t.hitRateBelow,
      message: `cache hit rate ${hitRate === undefined ? "unknown" : `${(hitRate * 100).toFixed(1)}%`} (alert below ${(t.hitRateBelow * 100).toFixed(0)}%)`,
    },
  ];
}
