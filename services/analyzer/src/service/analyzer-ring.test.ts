import { credentials, type Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { analyzerV1 } from "@prescient/contracts";
import { ManualClock, mulberry32 } from "@prescient/core";
import { callUnary, clientChannelOptions, ServiceHost } from "@prescient/kit";
import { freePorts, type RedisServerProcess, startRedisServer } from "@prescient/kit/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Call, workload } from "../ad-platform-workload.test-util.js";
import { TenantRing } from "../ring/tenant-ring.js";
import { AnalyzerMetrics } from "./metrics.js";
import { type AnalyzerRuntime, startAnalyzer } from "./start-analyzer.js";

/**
 * Two analyzer replicas sharing tenants through the ring must answer as one
 * analyzer does, whichever replica each call reaches: the same ingest
 * answers (rejections at the same positions), learned rules, relations,
 * readahead, next keys and top patterns. Without the ring the same pair
 * answers differently, which shows the comparison can fail.
 */
const start = Date.UTC(2026, 10, 2, 9);
// Ten tenants, over which the replicas of a ring split (launch draws ports until each owns some).
const tenants = [
  "acme",
  "globex",
  "initech",
  "umbrella",
  "hooli",
  "stark",
  "wayne",
  "wonka",
  "tyrell",
  "cyberdyne",
];

interface Replica {
  /** Shared by the replicas of one launch, so that each run keeps its own time. */
  clock: ManualClock;
  host: ServiceHost;
  runtime: AnalyzerRuntime;
  client: analyzerV1.AnalyzerServiceClient;
}

async function replica(
  redisUrl: string,
  keyPrefix: string,
  ring: boolean,
  port: number,
  clock: ManualClock,
): Promise<Replica> {
  const host = new ServiceHost({ address: `127.0.0.1:${port}` });
  const runtime = await startAnalyzer(host, {
    clock,
    store: { redisUrl, keyPrefix },
    // Counters written at once: a replica's read flushes only what it holds itself.
    ingestFlushIntervalMs: 0,
    retrainIntervalMs: 0,
    cleanupIntervalMs: 0,
    // A long membership life: on a loaded CI machine a stall of a second once let a member expire mid-run,
    // so some tenants' events went to another replica for a while and the learned state differed.
    // Forwards given long enough that a loaded machine never turns one into the fallback (applied here).
    ...(ring
      ? {
          advertiseAddress: `127.0.0.1:${port}`,
          ringHeartbeatMs: 100,
          ringTtlMs: 15_000,
          forwardTimeoutMs: 60_000,
        }
      : {}),
  });
  await host.start();
  await runtime.ready;
  const client = new analyzerV1.AnalyzerServiceClient(
    host.address,
    credentials.createInsecure(),
    clientChannelOptions(),
  );
  return { clock, host, runtime, client };
}

function streamCall(client: analyzerV1.AnalyzerServiceClient, messages: analyzerV1.QueryEvent[][]) {
  return new Promise<analyzerV1.RecordQueriesResponse>((resolve, reject) => {
    const call = client.recordQueries((err, res) => (err ? reject(err) : resolve(res)));
    for (const events of messages) call.write({ events });
    call.end();
  });
}

/** Plays the calls, each to a replica drawn at random (a load balancer); answers in order. */
async function play(calls: readonly Call[], replicas: readonly Replica[], seed: number): Promise<unknown[]> {
  const random = mulberry32(seed);
  const answers: unknown[] = [];
  for (const call of calls) {
    const r = replicas[Math.floor(random() * replicas.length)]!;
    r.clock.set(call.at);
    const c = r.client;
    if (call.kind === "events")
      answers.push(await callUnary(c.recordEvents.bind(c), { events: call.events }));
    else if (call.kind === "actions")
      answers.push(await callUnary(c.recordActions.bind(c), { events: call.events }));
    else if (call.kind === "batch")
      answers.push(await callUnary(c.recordQueryBatch.bind(c), { events: call.events }));
    else answers.push(await streamCall(c, call.messages));
  }
  return answers;
}

/** What the precomputer and operators read back, asked of one replica. */
async function learned(r: Replica) {
  const c = r.client;
  const ask = <Req, Res>(
    m: (req: Req, md: Metadata, o: object, cb: (e: Error | null, res: Res) => void) => unknown,
    req: Req,
  ) => callUnary(m.bind(c) as never, req) as Promise<Res>;
  const rules = (await ask(c.learnedRules, { tenant: "" })) as analyzerV1.LearnedRulesResponse;
  const perTenant: Record<string, unknown> = {};
  for (const tenant of tenants) {
    const related: Record<string, unknown> = {};
    for (const subject of ["u1", "u5", "u9", "c3"])
      related[subject] = (
        (await ask(c.relatedEntities, {
          tenant,
          subject,
          limit: 5,
          taskType: "",
        })) as analyzerV1.RelatedEntitiesResponse
      ).entities;
    perTenant[tenant] = {
      rules: ((await ask(c.learnedRules, { tenant })) as analyzerV1.LearnedRulesResponse).rules,
      related,
      next: (
        (await ask(c.predictNextKeys, {
          key: `${tenant}/campaign_analytics/c3`,
          limit: 5,
        })) as analyzerV1.PredictNextKeysResponse
      ).keys,
      patterns: (
        (await ask(c.topPatterns, { limit: 20, taskType: "", tenant })) as analyzerV1.TopPatternsResponse
      ).patterns,
    };
  }
  const readAhead = ((await ask(c.takeReadAhead, { limit: 0 })) as analyzerV1.TakeReadAheadResponse).keys;
  // Replicas hand out their own queues in turn, so the order across tenants is theirs; the set is what counts.
  readAhead.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return rounded({ rules: rules.rules, perTenant, readAhead });
}

/**
 * Numbers to 10 significant digits: the store's decayed counters are float
 * sums in Redis, and a batch split by tenant adds them in another order (last
 * bits differ). The learned state in the replicas compares exactly.
 */
function rounded<T>(value: T): T {
  if (typeof value === "number") return Number(value.toPrecision(10)) as T;
  if (Array.isArray(value)) return value.map(rounded) as T;
  if (value !== null && typeof value === "object" && !(value instanceof Date))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)])) as T;
  return value;
}

/**
 * The same keys offered, each at the same confidence within the shares
 * memo's tolerance. A related key's confidence is a rule's probability times
 * the entity's share, which EntityRelations.topShares answers from a memo
 * until the weight moved since exceeds 10% of it (sharesTolerance): messages
 * gathered into other batches on the ring's way refresh the memo at other
 * reads, so a share may differ by up to that much while every learned count
 * (rules, relations, patterns, compared exactly above) is the same. CI saw
 * it: globex/campaign_analytics/c15 at 0.0546 on the ring against 0.0526.
 */
function expectSameReadAhead(
  got: readonly analyzerV1.KeyConfidence[],
  want: readonly analyzerV1.KeyConfidence[],
): void {
  expect(got.map((k) => k.key)).toEqual(want.map((k) => k.key));
  for (const [i, w] of want.entries()) {
    const g = got[i]!.confidence;
    expect(Math.abs(g - w.confidence), `${w.key}: ${g} against ${w.confidence}`).toBeLessThanOrEqual(
      0.1 * w.confidence + 1e-9,
    );
  }
}

describe("analyzer replicas sharing tenants through the ring", () => {
  let redis: RedisServerProcess;
  const running: Replica[] = [];
  const calls = workload(11, start, tenants);

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    for (const r of running) {
      r.client.close();
      await r.host.shutdown();
    }
    await redis?.stop();
  });

  async function launch(prefix: string, n: number, ring: boolean): Promise<Replica[]> {
    // Ports held together (distinct), and drawn again until every replica owns some tenant: by chance
    // all ten could hash to one of two (2 in 1,024), and forwarding would go untested.
    let ports = await freePorts(n);
    for (let tries = 0; ring && n > 1 && tries < 50; tries++) {
      const members = ports.map((p) => `127.0.0.1:${p}`);
      if (new Set(tenants.map((t) => ownerFor(members, t))).size === n) break;
      ports = await freePorts(n);
    }
    const clock = new ManualClock(start);
    const rs: Replica[] = [];
    for (const port of ports) rs.push(await replica(redis.url, `${prefix}:{analyzer}:`, ring, port, clock));
    running.push(...rs);
    if (ring) {
      const end = Date.now() + 10_000;
      while (!rs.every((r) => r.runtime.ringMembers().length === n)) {
        if (Date.now() > end) throw new Error("the ring did not form");
        await new Promise((res) => setTimeout(res, 20));
      }
    }
    return rs;
  }

  it("answers as one analyzer, whichever replica each call reaches", { timeout: 120_000 }, async () => {
    const [single] = await launch("single", 1, false);
    const pair = await launch("pair", 2, true);
    const expected = await play(calls, [single!], 1);
    const got = await play(calls, pair, 2);
    // Ingest answers, rejections at the same stream positions included.
    expect(got).toEqual(expected);
    expect(expected.some((a) => (a as analyzerV1.RecordQueriesResponse).rejections.length > 0)).toBe(true);

    const want = await learned(single!);
    expect(want.rules.length).toBeGreaterThanOrEqual(6);
    expect(want.readAhead.length).toBeGreaterThan(0);
    // Both replicas own some tenants, so forwarding was exercised both ways.
    const owners = new Set(tenants.map((t) => ownerFor(pair[0]!.runtime.ringMembers(), t)));
    expect(owners.size).toBe(2);
    // Readahead is taken once: the second replica asked finds nothing left.
    const fromFirst = await learned(pair[0]!);
    expect({ ...fromFirst, readAhead: want.readAhead }).toEqual(want);
    expectSameReadAhead(fromFirst.readAhead, want.readAhead);
    const fromSecond = await learned(pair[1]!);
    expect({ ...fromSecond, readAhead: want.readAhead }).toEqual(want);
    expect(fromSecond.readAhead).toEqual([]);

    // A request the owner refuses is refused as one analyzer refuses it, and is not counted as a replica failing.
    const theirs = tenants.find((t) => pair[1]!.runtime.ownsTenant(t))!;
    const bad = { tenant: theirs, subject: "u1", limit: 5000, taskType: "" };
    const failedBefore = await forwardsFailed();
    const refused = await refusal(pair[0]!, bad);
    expect(refused).toEqual(await refusal(single!, bad));
    expect(refused.code).toBe(status.INVALID_ARGUMENT);
    expect(await forwardsFailed()).toBe(failedBefore);
  });

  it("passes a take's floor on to the replicas it gathers readahead from", { timeout: 60_000 }, async () => {
    const pair = await launch("floor", 2, true);
    const [asked, other] = pair as [Replica, Replica];
    const theirs = tenants.find((t) => other.runtime.ownsTenant(t))!;
    // A scan of `theirs`, sent to its owner: what it queues depends on the owner's floor.
    const scan = async (name: string) => {
      const events = Array.from({ length: 4 }, (_, p) => ({
        time: new Date(start - 3500 + p * 1000),
        tenant: theirs,
        taskType: "ctr_prediction",
        entityId: `${name}.${p}`,
        key: "",
        userId: "",
        outcome: 3,
        computeMs: 0,
        latencyMs: 1,
      }));
      await callUnary(other.client.recordQueryBatch.bind(other.client), { events });
      return other.runtime.analyzer.takeReadAhead(0).map((k) => k.key);
    };
    const take = (minConfidence: number) =>
      callUnary(asked.client.takeReadAhead.bind(asked.client), { limit: 0, minConfidence });
    await take(1); // nothing is that sure: the other replica queues nothing from now on
    expect(await scan("first")).toEqual([]);
    await take(0);
    expect(await scan("second")).toContain(`${theirs}/ctr_prediction/second.4`);
  });

  it("answers differently without the ring: the comparison above can fail", {
    timeout: 120_000,
  }, async () => {
    const [single] = await launch("single2", 1, false);
    const pair = await launch("apart", 2, false);
    await play(calls, [single!], 1);
    await play(calls, pair, 2);
    const want = await learned(single!);
    const got = await learned(pair[0]!);
    expect(got.rules).not.toEqual(want.rules);
    expect(got.perTenant).not.toEqual(want.perTenant);
  });

  it("moves learned state with its tenants: to the replica that takes them when one leaves, and back when one joins", {
    timeout: 120_000,
  }, async () => {
    const pair = await launch("handover", 2, true);
    const twoThirds = Math.floor((calls.length * 2) / 3);
    await play(calls.slice(0, twoThirds), pair, 5);
    const ofTenants = async (r: Replica) => (await learned(r)).perTenant;
    const before = await ofTenants(pair[0]!);
    const members = pair[0]!.runtime.ringMembers();
    const owned = (r: Replica) => tenants.filter((t) => ownerFor(members, t) === r.host.address);
    const [leaving, staying] = [...pair].sort((a, b) => owned(b).length - owned(a).length) as [
      Replica,
      Replica,
    ];
    expect(owned(leaving).length).toBeGreaterThan(0);
    // Shut down as in a rolling update: it saves what it owns, then leaves the ring.
    leaving.client.close();
    await leaving.host.shutdown();
    running.splice(running.indexOf(leaving), 1);
    // The survivor answers for the leaver's tenants what the leaver had learned, once it has taken them over.
    await eventually(async () => expect(await ofTenants(staying)).toEqual(before));
    expect(staying.runtime.ringMembers()).toEqual([staying.host.address]);

    // It learns on, alone, then a new replica joins and takes some tenants: the survivor saves what it
    // learned of them, and the newcomer (which restored the store's older records when it started) takes that.
    await play(calls.slice(twoThirds), [staying], 6);
    const want = await ofTenants(staying);
    expect(want).not.toEqual(before);
    let port = (await freePorts(1))[0]!;
    for (let tries = 0; tries < 50; tries++) {
      const next = [staying.host.address, `127.0.0.1:${port}`];
      if (tenants.some((t) => ownerFor(next, t) !== staying.host.address)) break;
      port = (await freePorts(1))[0]!;
    }
    const joiner = await replica(redis.url, "handover:{analyzer}:", true, port, staying.clock);
    running.push(joiner);
    await eventually(async () => expect(joiner.runtime.ringMembers()).toHaveLength(2));
    expect(tenants.filter((t) => joiner.runtime.ownsTenant(t)).length).toBeGreaterThan(0);
    await eventually(async () => expect(await ofTenants(joiner)).toEqual(want));
    expect(await ofTenants(staying)).toEqual(want);
  });

  it("loses nothing when a replica stops answering: its tenants' events are applied by the others", {
    timeout: 120_000,
  }, async () => {
    const trio = await launch("trio", 3, true);
    const half = Math.floor(calls.length / 2);
    const first = await play(calls.slice(0, half), trio, 3);
    // The replica owning the most tenants stops answering but stays in the ring (a partition): forwards to it fail.
    const members = trio[0]!.runtime.ringMembers();
    const owned = (r: Replica) => tenants.filter((t) => ownerFor(members, t) === r.host.address).length;
    const dead = [...trio].sort((a, b) => owned(b) - owned(a))[0]!;
    const alive = trio.filter((r) => r !== dead);
    expect(owned(dead)).toBeGreaterThan(0);
    dead.client.close();
    await dead.host.server.forceShutdown();
    running.splice(running.indexOf(dead), 1);
    const rest = await play(calls.slice(half), alive, 4);
    const sent = (answers: unknown[]) =>
      answers.reduce<number>((n, a) => n + Number((a as analyzerV1.RecordQueriesResponse).accepted), 0);
    const [single] = await launch("single3", 1, false);
    const expected = await play(calls, [single!], 1);
    expect(sent([...first, ...rest])).toBe(sent(expected));
    // Every accepted query reached the shared store's counters.
    const counted = async (r: Replica) =>
      (
        (await callUnary(r.client.topPatterns.bind(r.client), {
          limit: 1000,
          taskType: "",
          tenant: "",
        })) as analyzerV1.TopPatternsResponse
      ).patterns
        .map((p) => p.key)
        .sort();
    expect(await counted(alive[0]!)).toEqual(await counted(single!));
    expect(alive[0]!.runtime.ringMembers()).toHaveLength(3);
    // The failed forwards are counted (the two survivors share the process's registry).
    const failed = (await AnalyzerMetrics.for().forwards.get()).values.filter(
      (v) => v.labels.outcome === "failed",
    );
    expect(failed.reduce((n, v) => n + v.value, 0)).toBeGreaterThan(0);
    // Closed, it leaves the ring at once rather than after its membership's life.
    await dead.runtime.close();
    const probe = new Redis(redis.url);
    try {
      expect((await probe.zrange("trio:{analyzer}:ring", "0", "-1")).sort()).toEqual(
        alive.map((r) => r.host.address).sort(),
      );
    } finally {
      probe.disconnect();
    }
  });
});

async function refusal(r: Replica, req: analyzerV1.RelatedEntitiesRequest) {
  const e = (await callUnary(r.client.relatedEntities.bind(r.client), req).then(
    () => undefined,
    (err: unknown) => err,
  )) as ServiceError | undefined;
  return { code: e?.code, details: e?.details };
}

async function forwardsFailed(): Promise<number> {
  const values = (await AnalyzerMetrics.for().forwards.get()).values;
  return values.filter((v) => v.labels.outcome === "failed").reduce((n, v) => n + v.value, 0);
}

/** Retries `check` until it passes, for up to 10 s (a ring change is seen at a heartbeat, and acted on later). */
async function eventually(check: () => Promise<void>): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((res) => setTimeout(res, 100));
    }
  }
}

/** The owner the replicas agree on, by the same rule, from the members they see. */
function ownerFor(members: readonly string[], tenant: string): string {
  const r = new TenantRing(members[0]!);
  r.update(members);
  return r.ownerOf(tenant);
}
