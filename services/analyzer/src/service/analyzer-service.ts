import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { analyzerV1 } from "@prescient/contracts";
import { InvalidArgumentError, isDomainError, UnavailableError, validateTenant } from "@prescient/core";
import { type CallContext, type CallSettings, callUnary, clientStream, unary } from "@prescient/kit";
import type { Analyzer } from "../analyzer.js";
import { emptyIngestResult, type IngestResult } from "../core/events.js";
import type { LearnedRule } from "../core/fan-out-learner.js";
import { ingestResponse, keyByEnum, launchMessage, retrainResponse, sourceEnum } from "./proto-mapping.js";
import type { Ingested, RingRouter } from "./ring-router.js";

/**
 * The gRPC adapter of prescient.analyzer.v1.AnalyzerService: decode, call the
 * core, encode. Errors that are not domain errors come from the store (Redis
 * down, a script failing) and answer UNAVAILABLE.
 */
export const analyzerServiceName = "prescient.analyzer.v1.AnalyzerService";

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (isDomainError(e)) throw e;
    throw new UnavailableError(`analyzer store: ${(e as Error).message}`);
  }
}

const ruleMessage = (r: LearnedRule): analyzerV1.LearnedRule => ({
  ...r,
  targets: r.targets.map((t) => ({ ...t, keyBy: keyByEnum[t.keyBy] })),
});

const byTenantAndEvent = (a: analyzerV1.LearnedRule, b: analyzerV1.LearnedRule): number =>
  a.tenant !== b.tenant ? (a.tenant < b.tenant ? -1 : 1) : a.event < b.event ? -1 : a.event > b.event ? 1 : 0;

/**
 * With a router (several replicas), ingest and per-tenant learned state go
 * to each tenant's owner (ring-router.ts); without one, or on a call another
 * replica forwarded, everything is answered here.
 */
export function analyzerService(analyzer: Analyzer, router?: RingRouter): UntypedServiceImplementation {
  const s = analyzerServiceName;
  const maxEvents = analyzer.settings.maxEventsPerMessage;
  /** The router, when this call is split across replicas; a message over the limit is refused here, whole. */
  const routing = (ctx: CallContext, events: number): RingRouter | undefined =>
    router?.routes(ctx) === true && events <= maxEvents ? router : undefined;
  const eventTenant = (e: { tenant: string }): string => e.tenant;
  /** How one kind of event is applied here, and sent to the replica that owns its tenant. */
  interface Ingest<E> {
    rpc: string;
    local: (events: E[], into: IngestResult) => Promise<void>;
    forward: (
      client: analyzerV1.AnalyzerServiceClient,
      events: E[],
      settings: CallSettings,
    ) => Promise<Ingested>;
  }
  /** Applies a call's events here, or split over their tenants' owners when the call is routed. */
  const ingest = <E extends { tenant: string }>(
    how: Ingest<E>,
    ctx: CallContext,
    events: E[],
    result: IngestResult,
  ): Promise<void> => {
    const routed = routing(ctx, events.length);
    return routed === undefined
      ? how.local(events, result)
      : routed.ingest(how.rpc, events, eventTenant, result, 0, how.local, how.forward);
  };
  const queries: Ingest<analyzerV1.QueryEvent> = {
    rpc: "RecordQueryBatch",
    local: (events, into) => analyzer.recordQueries(events, into),
    forward: (c, events, settings) => callUnary(c.recordQueryBatch.bind(c), { events }, settings),
  };
  const actions: Ingest<analyzerV1.ActionEvent> = {
    rpc: "RecordActions",
    local: (events, into) => analyzer.recordActions(events, into),
    forward: (c, events, settings) => callUnary(c.recordActions.bind(c), { events }, settings),
  };
  const domainEvents: Ingest<analyzerV1.DomainEvent> = {
    rpc: "RecordEvents",
    local: async (events, into) => analyzer.recordEvents(events, into),
    forward: (c, events, settings) => callUnary(c.recordEvents.bind(c), { events }, settings),
  };
  return {
    recordQueries: clientStream<analyzerV1.RecordQueriesRequest, analyzerV1.RecordQueriesResponse>(
      s,
      "RecordQueries",
      async (messages, ctx) => {
        const result = emptyIngestResult();
        const stream = analyzer.queryStream(result);
        let offset = 0;
        try {
          for await (const message of messages) {
            const events = message.events;
            const routed = routing(ctx, events.length);
            if (routed === undefined || routed.allLocal(events, eventTenant))
              await guard(() => stream.push(events, offset));
            else {
              // In stream order: what this replica holds goes to the store before the split message.
              await guard(() => stream.end());
              await guard(() =>
                routed.ingest(
                  "RecordQueries",
                  events,
                  eventTenant,
                  result,
                  offset,
                  queries.local,
                  queries.forward,
                ),
              );
            }
            offset += events.length;
          }
        } finally {
          // Whatever was accepted before a failure is applied before the call ends.
          await stream.end().catch(() => undefined);
        }
        await guard(() => stream.end());
        return ingestResponse(result);
      },
    ),
    recordQueryBatch: unary<analyzerV1.RecordQueryBatchRequest, analyzerV1.RecordQueryBatchResponse>(
      s,
      "RecordQueryBatch",
      async (req, ctx) => {
        const result = emptyIngestResult();
        await guard(() => ingest(queries, ctx, req.events, result));
        return ingestResponse(result);
      },
    ),
    recordActions: unary<analyzerV1.RecordActionsRequest, analyzerV1.RecordActionsResponse>(
      s,
      "RecordActions",
      async (req, ctx) => {
        const result = emptyIngestResult();
        await guard(() => ingest(actions, ctx, req.events, result));
        return ingestResponse(result);
      },
    ),
    topPatterns: unary<analyzerV1.TopPatternsRequest, analyzerV1.TopPatternsResponse>(
      s,
      "TopPatterns",
      async (req) => ({
        patterns: await guard(() =>
          analyzer.topPatterns({ limit: req.limit, taskType: req.taskType, tenant: req.tenant }),
        ),
      }),
    ),
    offPeakWindow: unary<analyzerV1.OffPeakWindowRequest, analyzerV1.OffPeakWindowResponse>(
      s,
      "OffPeakWindow",
      async (req) => {
        const w = await guard(() =>
          analyzer.offPeakWindow({ durationMinutes: req.durationMinutes, timeZone: req.timezone }),
        );
        return {
          startMinuteOfWeek: w.startMinuteOfWeek,
          durationMinutes: w.durationMinutes,
          nextStart: new Date(w.nextStart),
          isDefault: w.isDefault,
          explanation: w.explanation,
          relativeLoad: w.relativeLoad,
        };
      },
    ),
    registerLaunch: unary<analyzerV1.RegisterLaunchRequest, analyzerV1.RegisterLaunchResponse>(
      s,
      "RegisterLaunch",
      async (req) => {
        if (req.launch === undefined) throw new InvalidArgumentError("launch is required");
        const launch = req.launch;
        return { launch: launchMessage(await guard(() => analyzer.registerLaunch(launch))) };
      },
    ),
    listUpcomingLaunches: unary<
      analyzerV1.ListUpcomingLaunchesRequest,
      analyzerV1.ListUpcomingLaunchesResponse
    >(s, "ListUpcomingLaunches", async (req) => ({
      launches: (await guard(() => analyzer.upcomingLaunches(req.hoursAhead, req.tenant))).map(launchMessage),
    })),
    predictNextActions: unary<analyzerV1.PredictNextActionsRequest, analyzerV1.PredictNextActionsResponse>(
      s,
      "PredictNextActions",
      async (req) => {
        const at = req.at?.getTime();
        if (at !== undefined && !Number.isFinite(at))
          throw new InvalidArgumentError("at is not a valid timestamp");
        const p = await guard(() =>
          analyzer.predictNextActions({ tenant: req.tenant, userId: req.userId, limit: req.limit, at }),
        );
        return {
          actions: p.actions,
          source: sourceEnum[p.source],
          modelVersion: p.modelVersion,
          fallbackReason: p.fallbackReason,
        };
      },
    ),
    predictNextKeys: unary<analyzerV1.PredictNextKeysRequest, analyzerV1.PredictNextKeysResponse>(
      s,
      "PredictNextKeys",
      async (req) => ({ keys: await guard(() => analyzer.predictNextKeys(req.key, req.limit)) }),
    ),
    takeReadAhead: unary<analyzerV1.TakeReadAheadRequest, analyzerV1.TakeReadAheadResponse>(
      s,
      "TakeReadAhead",
      async (req, ctx) => {
        const keys = await guard(async () => analyzer.takeReadAhead(req.limit, req.minConfidence));
        const want = req.limit === 0 ? 1000 : req.limit;
        // Each replica queues its own tenants' readahead: the rest of the limit is taken from the others.
        if (router?.routes(ctx) === true && keys.length < want)
          await router.untilEnough(
            "TakeReadAhead",
            (c, settings) =>
              callUnary(
                c.takeReadAhead.bind(c),
                { limit: want - keys.length, minConfidence: req.minConfidence },
                settings,
              ),
            (answer) => {
              keys.push(...answer.keys);
              return keys.length >= want;
            },
          );
        return { keys };
      },
    ),
    // Marks come from the store, which replicas share: any replica answers for every tenant.
    readMarks: unary<analyzerV1.ReadMarksRequest, analyzerV1.ReadMarksResponse>(
      s,
      "ReadMarks",
      async (req) => ({
        marks: (await guard(() => analyzer.readMarks(req.keys))).map((mark) =>
          mark === undefined ? {} : { mark },
        ),
      }),
    ),
    retrainNextAction: unary<analyzerV1.RetrainNextActionRequest, analyzerV1.RetrainNextActionResponse>(
      s,
      "RetrainNextAction",
      async () => retrainResponse(await guard(() => analyzer.retrainNextAction())),
    ),
    recordEvents: unary<analyzerV1.RecordEventsRequest, analyzerV1.RecordEventsResponse>(
      s,
      "RecordEvents",
      async (req, ctx) => {
        const result = emptyIngestResult();
        await ingest(domainEvents, ctx, req.events, result);
        return ingestResponse(result);
      },
    ),
    learnedRules: unary<analyzerV1.LearnedRulesRequest, analyzerV1.LearnedRulesResponse>(
      s,
      "LearnedRules",
      async (req, ctx) => {
        const mine = (): analyzerV1.LearnedRule[] => analyzer.learnedRules(req.tenant).map(ruleMessage);
        if (router?.routes(ctx) !== true) return { rules: mine() };
        const ask = (c: analyzerV1.AnalyzerServiceClient, settings: CallSettings) =>
          callUnary(c.learnedRules.bind(c), req, settings);
        if (req.tenant !== "") {
          validateTenant(req.tenant);
          return {
            rules: await router.ownerAnswers(
              "LearnedRules",
              req.tenant,
              mine,
              async (c, st) => (await ask(c, st)).rules,
            ),
          };
        }
        // Every tenant's: each owner's rules, so a replica's leftovers from before the ring changed are not listed twice.
        const ring = router.ring;
        const rules = mine().filter((r) => ring.owns(r.tenant));
        for (const { peer, answer } of await router.fromPeers("LearnedRules", ask))
          rules.push(...answer.rules.filter((r) => ring.ownerOf(r.tenant) === peer));
        return { rules: rules.sort(byTenantAndEvent) };
      },
    ),
    relatedEntities: unary<analyzerV1.RelatedEntitiesRequest, analyzerV1.RelatedEntitiesResponse>(
      s,
      "RelatedEntities",
      async (req, ctx) => {
        const mine = () =>
          analyzer.relatedEntities(
            req.tenant,
            req.subject,
            req.limit,
            req.taskType === "" ? undefined : req.taskType,
          );
        if (router?.routes(ctx) !== true) return { entities: mine() };
        validateTenant(req.tenant);
        return {
          entities: await router.ownerAnswers(
            "RelatedEntities",
            req.tenant,
            mine,
            async (c, settings) => (await callUnary(c.relatedEntities.bind(c), req, settings)).entities,
          ),
        };
      },
    ),
    cleanup: unary<analyzerV1.CleanupRequest, analyzerV1.CleanupResponse>(s, "Cleanup", async (req, ctx) => {
      let removed = await guard(() => analyzer.cleanup(req.daysToKeep));
      // Sessions and streams idle past the cut-off are held by every replica.
      if (router?.routes(ctx) === true)
        for (const { answer } of await router.fromPeers("Cleanup", (c, settings) =>
          callUnary(c.cleanup.bind(c), req, settings),
        ))
          removed += Number(answer.removed);
      return { removed: BigInt(removed) };
    }),
  };
}
