import { createHash } from "node:crypto";
import type { Features } from "../core/types.js";

/**
 * Deterministic stand-ins for the external task types of the examples
 * (thumbnails, captions, scene and face detection, hook analysis, dashboard
 * data, campaign analytics, variant generation): the same key and features
 * always give the same JSON, so `prescient up` runs every default trigger
 * end to end and tests can assert on the results.
 */
export interface ReferenceItem {
  key: string;
  tenant: string;
  entityId: string;
  features: Features;
}

/** n pseudo-random numbers in [0, 1) from the item's key and features. */
function unitValues(item: ReferenceItem, n: number): number[] {
  const seed = createHash("sha256")
    .update(item.key)
    .update(JSON.stringify(Object.entries(item.features).sort(([a], [b]) => (a < b ? -1 : 1))))
    .digest();
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(((seed.readUInt16BE((i * 2) % 30) ^ (i * 7919)) % 10_000) / 10_000);
  return out;
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

const builders: Record<string, (item: ReferenceItem, u: number[]) => unknown> = {
  thumbnail_generation: (item, u) => ({
    thumbnails: [0, 1, 2].map((i) => ({
      url: `thumb://${item.tenant}/${item.entityId}/${i}.jpg`,
      at_seconds: round((u[i] ?? 0) * 30, 1),
      score: round(u[i + 3] ?? 0),
    })),
  }),
  caption_generation: (item, u) => ({
    captions: [0, 1].map((i) => ({
      text: `${String(item.features.title ?? item.entityId)} (${i + 1})`,
      confidence: round(0.5 + (u[i] ?? 0) / 2),
    })),
  }),
  scene_detection: (_item, u) => {
    const scenes: Array<{ start_seconds: number; end_seconds: number }> = [];
    let t = 0;
    for (let i = 0; i < 4; i++) {
      const end = t + 2 + (u[i] ?? 0) * 8;
      scenes.push({ start_seconds: round(t, 1), end_seconds: round(end, 1) });
      t = end;
    }
    return { scenes };
  },
  face_detection: (_item, u) => ({
    faces: Math.floor((u[0] ?? 0) * 4),
    dominant_confidence: round(u[1] ?? 0),
  }),
  hook_analysis: (_item, u) => ({
    hook_strength: round(u[0] ?? 0),
    first_seconds_retention: round(0.4 + (u[1] ?? 0) * 0.6),
  }),
  dashboard_data: (item, u) => ({
    user: item.entityId,
    impressions: Math.floor((u[0] ?? 0) * 100_000),
    clicks: Math.floor((u[1] ?? 0) * 2000),
    spend: round((u[2] ?? 0) * 5000, 2),
  }),
  campaign_analytics: (item, u) => ({
    campaign: item.entityId,
    ctr: round((u[0] ?? 0) * 0.1, 4),
    roas: round(0.5 + (u[1] ?? 0) * 4, 2),
    conversions: Math.floor((u[2] ?? 0) * 500),
  }),
  variant_generation: (item, u) => ({
    variants: [0, 1, 2].map((i) => ({
      id: `${item.entityId}-v${i + 1}`,
      headline: `Variant ${i + 1}`,
      novelty: round(u[i] ?? 0),
    })),
  }),
};

/** The reference result of one item, as JSON bytes. */
export function referencePayload(taskType: string, item: ReferenceItem): Buffer {
  const u = unitValues(item, 8);
  // Own keys only: a task type named after an Object.prototype member ("valueOf") is no builder.
  const build = Object.hasOwn(builders, taskType) ? builders[taskType] : undefined;
  const value = build
    ? build(item, u)
    : { task_type: taskType, entity_id: item.entityId, value: round(u[0] ?? 0) };
  return Buffer.from(JSON.stringify(value), "utf8");
}

export const referenceModel = { name: "prescient-reference-handler", version: "1" } as const;
