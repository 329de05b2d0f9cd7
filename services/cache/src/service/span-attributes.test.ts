import { SpanStatusCode } from "@opentelemetry/api";
import type { cacheV1 } from "@prescient/contracts";
import { withSpan } from "@prescient/tracing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type InMemoryTracing,
  installInMemoryTracing,
} from "../../../../packages/tracing/src/in-memory-tracing.test-util.js";
import { annotateLookup, annotateLookupMany } from "./span-attributes.js";

let tracing: InMemoryTracing;
beforeAll(() => {
  tracing = installInMemoryTracing();
});
afterAll(() => tracing.uninstall());
beforeEach(() => tracing.exporter.reset());

const key = {
  tenant: "acme",
  taskType: "ctr_prediction",
  subject: { case: "entityId", value: "ad-secret-1" },
};
const answer = (over: Partial<cacheV1.LookupResponse>) =>
  ({
    key: "acme/ctr_prediction/ad-secret-1",
    hit: false,
    stale: false,
    refreshDue: false,
    degraded: false,
    computed: false,
    ...over,
  }) as cacheV1.LookupResponse;

async function spanOf(fn: () => void) {
  await withSpan("server", {}, fn);
  const [span] = tracing.exporter.getFinishedSpans();
  if (span === undefined) throw new Error("no span");
  return span;
}

describe("the cache's span attributes", () => {
  it("name the tenant, task type and outcome, never the entity", async () => {
    const span = await spanOf(() =>
      annotateLookup(key as cacheV1.LookupRequest["key"], answer({ hit: true })),
    );
    expect(span.attributes).toMatchObject({
      "prescient.tenant": "acme",
      "prescient.task_type": "ctr_prediction",
      "prescient.lookup.outcome": "hit",
    });
    expect(JSON.stringify(span.attributes)).not.toContain("ad-secret-1");
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("mark a degraded answer (store failed, fell through to a miss) ERROR", async () => {
    const span = await spanOf(() =>
      annotateLookup(key as cacheV1.LookupRequest["key"], answer({ degraded: true })),
    );
    expect(span.attributes["prescient.lookup.outcome"]).toBe("degraded");
    expect(span.status).toMatchObject({
      code: SpanStatusCode.ERROR,
      message: expect.stringMatching(/store failed/),
    });
    expect(span.events.map((e) => e.name)).toEqual(["error"]);
  });

  it("count a LookupMany's outcomes and flag its degraded keys", async () => {
    const request = {
      keys: [key, key, key],
      entityIds: [],
      onMiss: 0,
      userId: "",
      rejectStale: false,
      peek: false,
    };
    const span = await spanOf(() =>
      annotateLookupMany(
        request as cacheV1.LookupManyRequest,
        {
          results: [answer({ hit: true }), answer({}), answer({ degraded: true })],
        } as cacheV1.LookupManyResponse,
      ),
    );
    expect(span.attributes).toMatchObject({
      "prescient.batch.size": 3,
      "prescient.lookup.hits": 1,
      "prescient.lookup.misses": 1,
    });
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });
});
