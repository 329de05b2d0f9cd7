import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, type ServiceError, status } from "@grpc/grpc-js";
import { analyzerV1 } from "@prescient/contracts";
import { ManualClock } from "@prescient/core";
import { callUnary, clientChannelOptions, kitRegistry, ServiceHost } from "@prescient/kit";
import { freePort } from "@prescient/kit/testing";
import { startPredictor } from "@prescient/predictor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticPopulation } from "../next-action/synthetic-population.test-util.js";
import { type AnalyzerRuntime, startAnalyzer } from "./start-analyzer.js";

const { KeyBy, PredictionSource } = analyzerV1;
const now = Date.UTC(2025, 1, 10, 12);

async function expectCode(p: Promise<unknown>, code: status, message?: RegExp): Promise<void> {
  const e = (await p.then(
    () => undefined,
    (err: unknown) => err,
  )) as ServiceError | undefined;
  expect(e?.code, `expected gRPC status ${status[code]}`).toBe(code);
  if (message) expect(e?.details).toMatch(message);
}

function recordStream(client: analyzerV1.AnalyzerServiceClient, messages: analyzerV1.QueryEvent[][]) {
  return new Promise<analyzerV1.RecordQueriesResponse>((resolve, reject) => {
    const call = client.recordQueries((err, res) => (err ? reject(err) : resolve(res)));
    for (const events of messages) call.write({ events });
    call.end();
  });
}

const event = (over: Partial<analyzerV1.QueryEvent>): analyzerV1.QueryEvent => ({
  time: new Date(now - 1000),
  tenant: "acme",
  taskType: "ctr_prediction",
  entityId: "ad-1",
  key: "",
  userId: "u1",
  outcome: analyzerV1.LookupOutcome.LOOKUP_OUTCOME_MISS,
  computeMs: 4,
  latencyMs: 1,
  ...over,
});

describe("AnalyzerService over gRPC, with the predictor serving the next-action model", () => {
  let predictorHost: ServiceHost;
  let host: ServiceHost;
  let runtime: AnalyzerRuntime;
  let client: analyzerV1.AnalyzerServiceClient;
  let repository: string;
  const clock = new ManualClock(now);

  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), "analyzer-test-repo-"));
    predictorHost = new ServiceHost({ address: "127.0.0.1:0" });
    const predictor = startPredictor(predictorHost, { repositoryPath: repository, pollIntervalMs: 200 });
    await predictorHost.start();
    await predictor.ready;
    host = new ServiceHost({ address: "127.0.0.1:0" });
    runtime = await startAnalyzer(host, {
      clock,
      daysToKeep: 60,
      predictorAddress: predictorHost.address,
      modelRepositoryPath: repository,
      retrainIntervalMs: 0,
    });
    await host.start();
    await runtime.ready;
    client = new analyzerV1.AnalyzerServiceClient(
      host.address,
      credentials.createInsecure(),
      clientChannelOptions(),
    );
  });

  afterAll(async () => {
    client?.close();
    await host?.shutdown();
    await predictorHost?.shutdown();
    await rm(repository, { recursive: true, force: true });
  });

  it("reports SERVING once ready", () => {
    expect(host.servingStatus("prescient.analyzer.v1.AnalyzerService")).toBe("SERVING");
  });

  it("rejects malformed events one by one with reasons while the stream goes on", async () => {
    const res = await recordStream(client, [
      [event({}), event({ tenant: "bad/tenant" }), event({ time: new Date(now + 3_600_000) })],
      [
        event({ computeMs: -1 }),
        event({ outcome: 9 as analyzerV1.LookupOutcome }),
        event({ key: "acme/ctr_prediction/ad-2", entityId: "" }),
      ],
      [
        event({ key: "acme/ctr_prediction/ad-2", entityId: "", tenant: "other" }),
        event({ entityId: "" }),
        event({ latencyMs: Number.NaN }),
      ],
      [event({ entityId: "ad-3" })],
    ]);
    expect(res.accepted).toBe(3n);
    expect(res.rejected).toBe(7n);
    expect(res.rejections.map((r) => Number(r.index))).toEqual([1, 2, 3, 4, 6, 7, 8]);
    expect(res.rejections[0]!.reason).toMatch(/tenant/);
    expect(res.rejections[1]!.reason).toMatch(/future/);
    expect(res.rejections[2]!.reason).toMatch(/compute_ms/);
    expect(res.rejections[3]!.reason).toMatch(/outcome/);
    expect(res.rejections[4]!.reason).toMatch(/differs/);
    const batch = await callUnary(client.recordQueryBatch.bind(client), {
      events: [event({ entityId: "ad-1" }), event({ taskType: "Bad-Type" })],
    });
    expect([batch.accepted, batch.rejected]).toEqual([1n, 1n]);
    const top = await callUnary(client.topPatterns.bind(client), { limit: 2, taskType: "", tenant: "acme" });
    expect(top.patterns[0]!.key).toBe("acme/ctr_prediction/ad-1");
    expect(top.patterns[0]!.benefit).toBeGreaterThan(0);
  });

  it("answers INVALID_ARGUMENT for bad input on every unary RPC", async () => {
    const bad = status.INVALID_ARGUMENT;
    const actions = await callUnary(client.recordActions.bind(client), {
      events: [
        {
          time: new Date(now),
          tenant: "acme",
          userId: "",
          action: "login",
          attributes: {},
          relatedEntityIds: [],
        },
        {
          time: new Date(now),
          tenant: "acme",
          userId: "u",
          action: "bad action!",
          attributes: {},
          relatedEntityIds: [],
        },
        {
          time: new Date(now),
          tenant: "acme",
          userId: "u",
          action: "login",
          attributes: {},
          relatedEntityIds: [],
        },
      ],
    });
    expect([actions.accepted, actions.rejected]).toEqual([1n, 2n]);
    await expectCode(
      callUnary(client.topPatterns.bind(client), { limit: 10_000_000, taskType: "", tenant: "" }),
      bad,
    );
    await expectCode(
      callUnary(client.topPatterns.bind(client), { limit: 1, taskType: "", tenant: "a/b" }),
      bad,
    );
    await expectCode(
      callUnary(client.offPeakWindow.bind(client), { durationMinutes: 60, timezone: "Nowhere/Zone" }),
      bad,
      /IANA/,
    );
    await expectCode(callUnary(client.registerLaunch.bind(client), {}), bad, /launch is required/);
    const launch = {
      id: "",
      tenant: "acme",
      campaignId: "spring",
      entityIds: ["ad-1"],
      taskTypes: ["ctr_prediction"],
      event: "",
    };
    await expectCode(
      callUnary(client.registerLaunch.bind(client), {
        launch: { ...launch, launchAt: new Date(now - 60_000) },
      }),
      bad,
      /past/,
    );
    await expectCode(
      callUnary(client.registerLaunch.bind(client), {
        launch: { ...launch, launchAt: new Date(now + 60_000), event: "Launch Day!" },
      }),
      bad,
      /launch\.event "Launch Day!" must match/,
    );
    await expectCode(
      callUnary(client.registerLaunch.bind(client), {
        launch: { ...launch, launchAt: new Date(now + 60_000), entityIds: [], taskTypes: [] },
      }),
      bad,
      /no entity_ids, task_types or event: nothing to warm/,
    );
    await expectCode(
      callUnary(client.listUpcomingLaunches.bind(client), { hoursAhead: -1, tenant: "" }),
      bad,
    );
    await expectCode(
      callUnary(client.predictNextActions.bind(client), { tenant: "acme", userId: "", limit: 3 }),
      bad,
    );
    await expectCode(
      callUnary(client.predictNextActions.bind(client), { tenant: "", userId: "u", limit: 3 }),
      bad,
    );
    await expectCode(callUnary(client.predictNextKeys.bind(client), { key: "not-a-key", limit: 3 }), bad);
    await expectCode(callUnary(client.cleanup.bind(client), { daysToKeep: 100_000 }), bad);
    await expectCode(callUnary(client.takeReadAhead.bind(client), { limit: 200_000 }), bad);
    await expectCode(callUnary(client.takeReadAhead.bind(client), { limit: 0, minConfidence: 1.5 }), bad);
  });

  it("hands out the keys past a scan once, through TakeReadAhead", async () => {
    // A scan of a page a second, its last read half a second ago: the next page is still to come, so
    // it comes first (a scan reported seconds late is predicted from where its pace says it is by now).
    const pages = Array.from({ length: 4 }, (_, p) =>
      event({ time: new Date(now - 3500 + p * 1000), entityId: `scan.${p}`, userId: "" }),
    );
    const batch = await callUnary(client.recordQueryBatch.bind(client), { events: pages });
    expect(batch.accepted).toBe(4n);
    const ahead = await callUnary(client.takeReadAhead.bind(client), { limit: 0 });
    const scanned = ahead.keys.map((k) => k.key).filter((k) => k.includes("/scan."));
    // Pages past the furthest read (3), none of those read; the next one first.
    expect(scanned[0]).toBe("acme/ctr_prediction/scan.4");
    expect(scanned).toEqual(
      expect.arrayContaining(["acme/ctr_prediction/scan.5", "acme/ctr_prediction/scan.6"]),
    );
    expect(scanned.every((k) => Number(k.split(".").at(-1)) >= 4)).toBe(true);
    expect((await callUnary(client.takeReadAhead.bind(client), { limit: 0 })).keys).toEqual([]);
  });

  it("queues nothing below the floor a TakeReadAhead names, until one names another", async () => {
    const scan = async (name: string) => {
      const pages = Array.from({ length: 4 }, (_, p) =>
        event({ time: new Date(now - 3500 + p * 1000), entityId: `${name}.${p}`, userId: "" }),
      );
      expect((await callUnary(client.recordQueryBatch.bind(client), { events: pages })).accepted).toBe(4n);
    };
    const take = async (minConfidence?: number) =>
      (
        await callUnary(client.takeReadAhead.bind(client), {
          limit: 0,
          ...(minConfidence === undefined ? {} : { minConfidence }),
        })
      ).keys.map((k) => k.key);
    await take(1); // nothing is that sure
    await scan("first");
    expect(await take()).toEqual([]);
    await take(0);
    await scan("second");
    expect(await take()).toContain("acme/ctr_prediction/second.4");
  });

  it("registers launches and lists the upcoming ones", async () => {
    const launchAt = new Date(now + 2 * 3_600_000);
    const { launch } = await callUnary(client.registerLaunch.bind(client), {
      launch: {
        id: "",
        tenant: "acme",
        campaignId: "spring",
        launchAt,
        entityIds: ["ad-1", "ad-1"],
        taskTypes: [],
        event: "campaign_launch_scheduled",
      },
    });
    expect(launch?.id).toBe(`spring@${launchAt.getTime()}`);
    expect(launch?.entityIds).toEqual(["ad-1"]);
    expect(launch?.event).toBe("campaign_launch_scheduled");
    // A campaign and the event that announced it are enough: the event's rule names what to warm.
    const bare = await callUnary(client.registerLaunch.bind(client), {
      launch: {
        id: "",
        tenant: "acme",
        campaignId: "autumn",
        launchAt,
        entityIds: [],
        taskTypes: [],
        event: "campaign_launch_scheduled",
      },
    });
    expect(bare.launch).toMatchObject({ campaignId: "autumn", entityIds: [], taskTypes: [] });
    const soon = await callUnary(client.listUpcomingLaunches.bind(client), { hoursAhead: 1, tenant: "" });
    expect(soon.launches).toEqual([]);
    const later = await callUnary(client.listUpcomingLaunches.bind(client), {
      hoursAhead: 3,
      tenant: "acme",
    });
    expect(later.launches.map((l) => [l.campaignId, l.event])).toEqual([
      ["autumn", "campaign_launch_scheduled"],
      ["spring", "campaign_launch_scheduled"],
    ]);
  });

  it("trains, publishes and serves the next-action model through the predictor, and retrains without a restart", async () => {
    const population = syntheticPopulation({
      users: 150,
      sessionsPerUser: 10,
      start: now - 28 * 86_400_000,
      days: 27,
      seed: 5,
    });
    const retrainEmpty = await callUnary(client.retrainNextAction.bind(client), {});
    expect(retrainEmpty.promoted).toBe(false);
    expect(retrainEmpty.explanation).toMatch(/too little data/);
    // Rounds are at least retrainMinIntervalMs apart (default 10 s).
    clock.advance(runtime.analyzer.settings.retrainMinIntervalMs);
    for (const h of population.histories) {
      const events = h.actions.map((a) => ({
        time: new Date(a.time),
        tenant: h.tenant,
        userId: h.userId,
        action: a.action,
        attributes: {},
        relatedEntityIds: [],
      }));
      for (let i = 0; i < events.length; i += 1000) {
        const r = await callUnary(client.recordActions.bind(client), { events: events.slice(i, i + 1000) });
        expect(r.rejected).toBe(0n);
      }
    }
    const user = population.histories[0]!;
    const before = await callUnary(client.predictNextActions.bind(client), {
      tenant: "acme",
      userId: user.userId,
      limit: 3,
    });
    expect(before.source).toBe(PredictionSource.PREDICTION_SOURCE_MARKOV);
    expect(before.fallbackReason).toMatch(/no next-action model/);

    const first = await callUnary(client.retrainNextAction.bind(client), {});
    expect(first.promoted).toBe(true);
    expect(first.version).toBe("1");
    expect(first.candidate!.top1Accuracy).toBeGreaterThan(first.markovBaseline!.top1Accuracy);
    expect(first.markovBaseline!.top1Accuracy).toBeGreaterThan(first.frequencyBaseline!.top1Accuracy);
    expect(await readdir(join(repository, "next_action"))).toEqual(
      expect.arrayContaining(["1", "config.yaml"]),
    );
    const served = await callUnary(client.predictNextActions.bind(client), {
      tenant: "acme",
      userId: user.userId,
      limit: 3,
    });
    expect(served.source).toBe(PredictionSource.PREDICTION_SOURCE_MODEL);
    expect(served.modelVersion).toBe("1");
    expect(served.actions).toHaveLength(3);
    const total = served.actions.reduce((s, a) => s + a.probability, 0);
    expect(total).toBeGreaterThan(0.3);
    expect(total).toBeLessThanOrEqual(1.0001);

    // Asked again at once: the first round's report, said to be that, and no new version.
    const coalesced = await callUnary(client.retrainNextAction.bind(client), {});
    expect({ ...coalesced, explanation: "" }).toEqual({ ...first, explanation: "" });
    expect(coalesced.explanation).toMatch(/not retrained: this is the report of the round that ended/);
    clock.advance(runtime.analyzer.settings.retrainMinIntervalMs);
    const second = await callUnary(client.retrainNextAction.bind(client), {});
    expect(second.current!.top1Accuracy).toBeCloseTo(first.candidate!.top1Accuracy, 6);
    expect(second.promoted).toBe(true);
    expect(second.version).toBe("2");
    const again = await callUnary(client.predictNextActions.bind(client), {
      tenant: "acme",
      userId: user.userId,
      limit: 3,
    });
    expect(again.modelVersion).toBe("2");
    const stranger = await callUnary(client.predictNextActions.bind(client), {
      tenant: "acme",
      userId: "nobody",
      limit: 2,
    });
    expect(stranger.source).toBe(PredictionSource.PREDICTION_SOURCE_FREQUENCY);
    expect(stranger.actions).toHaveLength(2);
    // The intervals waited out above are not the later tests' time.
    clock.set(now);
  });

  it("falls back to Markov and says why when the predictor is unreachable", async () => {
    const h = new ServiceHost({ address: "127.0.0.1:0" });
    const r = await startAnalyzer(h, {
      clock,
      daysToKeep: 60,
      predictorAddress: `127.0.0.1:${await freePort()}`,
      predictorTimeoutMs: 500,
      modelRepositoryPath: repository,
      retrainIntervalMs: 0,
    });
    await h.start();
    await r.ready;
    await r.analyzer.recordActions(
      [0, 1, 2].map((i) => ({
        time: new Date(now - 1000 + i),
        tenant: "acme",
        userId: "solo",
        action: i === 1 ? "search" : "login",
        attributes: {},
      })),
      { accepted: 0, rejected: 0, rejections: [] },
    );
    const p = await r.analyzer.predictNextActions({ tenant: "acme", userId: "solo", limit: 2 });
    expect(p.source).toBe("markov");
    expect(p.fallbackReason).toMatch(/unavailable/);
    await h.shutdown();
  });

  it("learns fan-out rules and relations: RecordEvents, then reads, then LearnedRules and RelatedEntities", async () => {
    const tenant = "shop";
    const users = Array.from({ length: 8 }, (_, i) => i);
    const domain = (over: Partial<analyzerV1.DomainEvent>): analyzerV1.DomainEvent => ({
      time: new Date(now - 60_000),
      tenant,
      type: "user_login",
      entityId: "",
      userId: "u0",
      relatedEntityIds: [],
      ...over,
    });
    const recorded = await callUnary(client.recordEvents.bind(client), {
      events: [
        // Two hours ago each user created a campaign (outside the window of the reads below).
        ...users.map((i) =>
          domain({
            time: new Date(now - 2 * 3_600_000),
            type: "campaign_created",
            entityId: `c${i}`,
            userId: `u${i}`,
          }),
        ),
        // A minute ago each logged in; u0's login names x1 explicitly.
        ...users.map((i) => domain({ userId: `u${i}`, relatedEntityIds: i === 0 ? ["x1"] : [] })),
        domain({ type: "Bad-Type" }),
        domain({ userId: "", entityId: "" }),
      ],
    });
    expect([recorded.accepted, recorded.rejected]).toEqual([16n, 2n]);
    expect(recorded.rejections.map((r) => Number(r.index))).toEqual([16, 17]);
    expect(recorded.rejections[0]!.reason).toMatch(/type "Bad-Type" must match/);
    expect(recorded.rejections[1]!.reason).toMatch(/needs an entity_id or a user_id/);
    // Every login is followed by the user's dashboard after 2 s, half by their campaign's analytics after 5 s.
    const reads = await callUnary(client.recordQueryBatch.bind(client), {
      events: [
        ...users.map((i) =>
          event({
            time: new Date(now - 58_000),
            tenant,
            taskType: "user_dashboard",
            entityId: `u${i}`,
            userId: `u${i}`,
          }),
        ),
        ...users
          .filter((i) => i % 2 === 0)
          .map((i) =>
            event({
              time: new Date(now - 55_000),
              tenant,
              taskType: "campaign_analytics",
              entityId: `c${i}`,
              userId: `u${i}`,
            }),
          ),
      ],
    });
    expect([reads.accepted, reads.rejected]).toEqual([12n, 0n]);

    const { rules } = await callUnary(client.learnedRules.bind(client), { tenant });
    // Campaign creations are supported but nothing read follows them within the window: no target.
    expect(rules.map((r) => [r.event, r.targets.length])).toEqual([
      ["campaign_created", 0],
      ["user_login", 2],
    ]);
    const rule = rules[1]!;
    expect([rule.tenant, rule.event]).toEqual([tenant, "user_login"]);
    expect(rule.support).toBeCloseTo(8, 2);
    expect(rule.targets.map((t) => [t.taskType, t.keyBy])).toEqual([
      ["user_dashboard", KeyBy.KEY_BY_USER],
      ["campaign_analytics", KeyBy.KEY_BY_RELATED],
    ]);
    expect(rule.targets[0]!.probability).toBeCloseTo(1, 9);
    expect(rule.targets[0]!.meanDelayMs).toBeCloseTo(2000, 3);
    expect(rule.targets[1]!.probability).toBeCloseTo(0.5, 9);
    expect(rule.targets[1]!.meanDelayMs).toBeCloseTo(5000, 3);
    // Every tenant's, with "": shop's rule among them; another tenant's, none of shop's.
    const all = await callUnary(client.learnedRules.bind(client), { tenant: "" });
    expect(all.rules).toContainEqual(rule);
    expect((await callUnary(client.learnedRules.bind(client), { tenant: "acme" })).rules).toEqual([]);

    // Campaign analytics are read for campaigns: u0 gets c0, not x1 (named by a login).
    const forAnalytics = await callUnary(client.relatedEntities.bind(client), {
      tenant,
      subject: "u0",
      limit: 0,
      taskType: "campaign_analytics",
    });
    expect(forAnalytics.entities.map((e) => e.entityId)).toEqual(["c0"]);
    expect(forAnalytics.entities[0]!.weight).toBeGreaterThan(1);
    const any = await callUnary(client.relatedEntities.bind(client), {
      tenant,
      subject: "u0",
      limit: 10,
      taskType: "",
    });
    expect(any.entities.map((e) => e.entityId).sort()).toEqual(["c0", "x1"]);
    const otherTenant = await callUnary(client.relatedEntities.bind(client), {
      tenant: "acme",
      subject: "u0",
      limit: 10,
      taskType: "",
    });
    expect(otherTenant.entities).toEqual([]);

    // The gauges read the running analyzer at scrape time; no tenant label.
    const text = await kitRegistry.metrics();
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
    expect(gauge("prescient_analyzer_learned_rules")).toBe(runtime.analyzer.learnedRuleCount());
    expect(gauge("prescient_analyzer_learned_rules")).toBeGreaterThanOrEqual(2);
    expect(gauge("prescient_analyzer_relation_subjects")).toBe(runtime.analyzer.relationSubjectCount());
    expect(gauge("prescient_analyzer_relation_subjects")).toBeGreaterThanOrEqual(8);
    expect(text).not.toMatch(/prescient_analyzer_learned_rules\{/);
  });

  it("answers INVALID_ARGUMENT with a clear message for bad RecordEvents, LearnedRules and RelatedEntities", async () => {
    const bad = status.INVALID_ARGUMENT;
    await expectCode(
      callUnary(client.learnedRules.bind(client), { tenant: "a/b" }),
      bad,
      /tenant "a\/b" may hold only/,
    );
    const related = (over: Partial<analyzerV1.RelatedEntitiesRequest>) =>
      callUnary(client.relatedEntities.bind(client), {
        tenant: "shop",
        subject: "u0",
        limit: 10,
        taskType: "",
        ...over,
      });
    await expectCode(related({ subject: "" }), bad, /^subject is empty$/);
    await expectCode(related({ limit: 1001 }), bad, /limit must be from 0 to 1000/);
    await expectCode(related({ tenant: "" }), bad, /tenant is empty/);
    await expectCode(related({ taskType: "Bad-Type" }), bad, /task_type "Bad-Type" must match/);
    const many = Array.from({ length: 10_001 }, () => ({
      time: new Date(now),
      tenant: "shop",
      type: "user_login",
      entityId: "",
      userId: "u0",
      relatedEntityIds: [],
    }));
    await expectCode(
      callUnary(client.recordEvents.bind(client), { events: many }),
      bad,
      /10001 events in one call; the limit is 10000/,
    );
  });

  it("cleans up old actions and past launches", async () => {
    clock.set(now + 3 * 3_600_000);
    const removed = await callUnary(client.cleanup.bind(client), { daysToKeep: 1 });
    expect(removed.removed).toBeGreaterThan(0n);
    const launches = await callUnary(client.listUpcomingLaunches.bind(client), {
      hoursAhead: 100,
      tenant: "",
    });
    expect(launches.launches).toEqual([]);
    clock.set(now);
  });
});
