#!/usr/bin/env node
/**
 * An ad server's hot path: rank 200 candidate ads for one request by
 * predicted CTR × bid. One LookupMany answers the ads prescient already
 * scored; the misses are scored in one batched ModelInfer and put back, so
 * the next request for them hits.
 *
 *   node examples/dist/ad-server.js --addr 127.0.0.1:50051 [--tenant acme] [--candidates 200]
 */
import { createClient, type PrescientClient, tensorValue } from "@prescient/client";
import { argValue, main } from "./run.js";

interface Ad {
  id: string;
  bid: number;
  features: number[];
}

/** The 8 features the shipped ctr_prediction model reads, in its input order. */
function candidate(i: number): Ad {
  const bid = 0.5 + ((i * 37) % 100) / 50;
  return {
    id: `ad-${i}`,
    bid,
    features: [
      bid,
      1 + (i % 10),
      1 + (i % 5),
      14,
      i % 30,
      0.01 + (i % 7) / 100,
      ((i * 13) % 100) / 100,
      i % 2,
    ],
  };
}

export async function rank(client: PrescientClient, tenant: string, ads: Ad[]) {
  const began = performance.now();
  const found = await client.lookupMany(
    ads.map((a) => `${tenant}/ctr_prediction/${a.id}`),
    { userId: "ad-server" },
  );
  const ctr = new Map<string, number>();
  const misses: Ad[] = [];
  found.forEach((r, i) => {
    const ad = ads[i] as Ad;
    const p = r.value?.kind === "tensors" ? Object.values(r.value.tensors)[0]?.data[0] : undefined;
    if (p === undefined) misses.push(ad);
    else ctr.set(ad.id, p);
  });
  if (misses.length > 0) {
    const scored = await client.infer("ctr_prediction", {
      features: { datatype: "FP32", shape: [misses.length, 8], data: misses.flatMap((a) => a.features) },
    });
    const [name, out] = Object.entries(scored.outputs)[0] ?? [];
    if (name === undefined || out === undefined) throw new Error("ctr_prediction answered no output");
    await client.putMany(
      misses.map((a, i) => {
        const p = out.data[i] ?? 0;
        ctr.set(a.id, p);
        return {
          key: `${tenant}/ctr_prediction/${a.id}`,
          value: tensorValue({ [name]: { datatype: out.datatype, shape: [1, 1], data: [p] } }),
          modelName: scored.model,
          modelVersion: scored.version,
        };
      }),
    );
  }
  const ranked = ads
    .map((a) => ({ id: a.id, score: (ctr.get(a.id) ?? 0) * a.bid }))
    .sort((x, y) => y.score - x.score);
  return { ranked, hits: ads.length - misses.length, misses: misses.length, ms: performance.now() - began };
}

await main(import.meta.url, async () => {
  const client = createClient({ address: argValue("--addr", "127.0.0.1:50051") });
  const tenant = argValue("--tenant", "acme");
  const ads = Array.from({ length: Number(argValue("--candidates", "200")) }, (_, i) => candidate(i));
  try {
    for (const round of ["cold", "warm"]) {
      const r = await rank(client, tenant, ads);
      const top = r.ranked.slice(0, 3).map((x) => `${x.id}=${x.score.toFixed(4)}`);
      process.stdout.write(
        `${JSON.stringify({ round, candidates: ads.length, hits: r.hits, misses: r.misses, top, ms: Math.round(r.ms) })}\n`,
      );
    }
  } finally {
    client.close();
  }
});
