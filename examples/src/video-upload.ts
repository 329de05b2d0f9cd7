#!/usr/bin/env node
/**
 * A video platform's upload backend: when a video is uploaded it triggers
 * `video_uploaded`, and prescient's rule computes the video's analyses
 * (scenes, faces, hook, CTR, thumbnails, captions) ahead of anyone asking.
 * Later, the video page reads them; by then they are cache hits.
 *
 *   node examples/dist/video-upload.js --addr 127.0.0.1:50051 [--tenant acme] [--video vid-1]
 */
import { createClient, type LookupResult, type PrescientClient } from "@prescient/client";
import { argValue, main } from "./run.js";

/** What the upload rule computes, as config/task-types.yaml ships it. */
export const analyses = [
  "scene_detection",
  "face_detection",
  "hook_analysis",
  "ctr_prediction",
  "thumbnail_generation",
  "caption_generation",
] as const;

export async function onUpload(client: PrescientClient, tenant: string, video: string) {
  // The model behind ctr_prediction reads these; the others are computed by the task handler.
  const features = {
    bid: 1,
    quality_score: 8,
    position: 1,
    hour_of_day: 20,
    ad_age_days: 0,
    historical_ctr: 0.03,
    relevance: 0.9,
    device_mobile: 1,
  };
  return client.trigger({ type: "video_uploaded", tenant, entityId: video, features });
}

/** The video page: reads every analysis, waiting up to `patienceMs` for the ones still computing. */
export async function readAnalyses(
  client: PrescientClient,
  tenant: string,
  video: string,
  patienceMs: number,
): Promise<LookupResult[]> {
  const keys = analyses.map((t) => `${tenant}/${t}/${video}`);
  const end = Date.now() + patienceMs;
  for (;;) {
    const found = await client.lookupMany(keys, { userId: "video-page" });
    if (found.every((r) => r.outcome !== "miss") || Date.now() > end) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

await main(import.meta.url, async () => {
  const client = createClient({ address: argValue("--addr", "127.0.0.1:50051") });
  const tenant = argValue("--tenant", "acme");
  const video = argValue("--video", `vid-${Date.now().toString(36)}`);
  try {
    const triggered = await onUpload(client, tenant, video);
    const queued = Object.values(triggered.queued).reduce((n, ids) => n + ids.length, 0);
    process.stdout.write(
      `${JSON.stringify({ video, queued, types: Object.keys(triggered.queued).sort() })}\n`,
    );
    const results = await readAnalyses(client, tenant, video, Number(argValue("--patience-ms", "20000")));
    for (const r of results)
      process.stdout.write(
        `${JSON.stringify({ key: r.key, outcome: r.outcome, kind: r.value?.kind ?? null, model: r.raw?.modelName ?? null })}\n`,
      );
    if (results.some((r) => r.outcome === "miss")) throw new Error("some analyses were not ready in time");
  } finally {
    client.close();
  }
});
