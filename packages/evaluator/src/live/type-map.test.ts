import { defaultTaskTypesPath, loadTaskTypes } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { traceFile } from "../test/fixtures.test-util.js";
import { openTrace } from "../trace/open-trace.js";
import type { TraceRecord } from "../trace/record.js";
import { checkLiveAddress, hostOf, isLoopback } from "./address.js";
import { liveTypeMap, MappedTraceSource, scaleTaskTypes } from "./type-map.js";

const shipped = loadTaskTypes(defaultTaskTypesPath);

describe("live mode: task types, TTLs and events as the mesh sees them", () => {
  it("keeps the types the mesh knows and maps the others to its shortest-lived external type", () => {
    const m = liveTypeMap(shipped);
    expect(m.fallback).toBe("campaign_analytics");
    expect(m.map("ctr_prediction")).toBe("ctr_prediction");
    expect(m.map("object")).toBe("campaign_analytics");
    expect(m.map("cdn_object")).toBe("campaign_analytics");
    expect(m.used()).toEqual({ cdn_object: "campaign_analytics", object: "campaign_analytics" });
  });

  it("takes explicit mappings and a default, and refuses targets the mesh does not know", () => {
    const m = liveTypeMap(shipped, { default: "dashboard_data", ctr_prediction: "hook_analysis" });
    expect(m.map("object")).toBe("dashboard_data");
    expect(m.map("ctr_prediction")).toBe("hook_analysis");
    expect(() => liveTypeMap(shipped, { object: "no_such_type" })).toThrow(/do not declare/);
  });

  it("rewrites the keys of mapped reads, and leaves events' types alone unless named", async () => {
    const src = await openTrace(
      traceFile(
        "ts,key,tenant,user,task_type,entity,event\n" +
          "1,a/b,,,,,\n" +
          "2,acme/ctr_prediction/ad-1,,,,,\n" +
          "3,,acme,u1,,video-1,video_uploaded\n",
      ),
    );
    const out: TraceRecord[] = [];
    for await (const r of new MappedTraceSource(src, liveTypeMap(shipped).map).records()) out.push(r);
    expect(out[0]).toMatchObject({
      kind: "read",
      tenant: "default",
      taskType: "campaign_analytics",
      key: "default/campaign_analytics/a%2Fb",
    });
    expect(out[1]).toMatchObject({ taskType: "ctr_prediction", key: "acme/ctr_prediction/ad-1" });
    expect(out[2]).toMatchObject({ kind: "event", event: "video_uploaded", taskType: "" });
  });

  it("scales TTLs and stale graces by the speed, keeping the rules", () => {
    const scaled = scaleTaskTypes(shipped, 60);
    expect(scaled.get("dashboard_data").ttlMs).toBe(3600_000 * 60);
    expect(scaled.get("dashboard_data").staleGraceMs).toBe(300_000 * 60);
    expect(scaled.raw).toBe(shipped.raw);
  });
});

describe("live mode: loopback only, unless --allow-remote", () => {
  it("finds the host of an address", () => {
    expect(hostOf("127.0.0.1:50051")).toBe("127.0.0.1");
    expect(hostOf("[::1]:50051")).toBe("::1");
    expect(hostOf("localhost:1")).toBe("localhost");
    expect(hostOf("dns:///mesh.example:443")).toBe("mesh.example");
    expect(hostOf("unix:/tmp/mesh.sock")).toBe("unix");
  });

  it("accepts loopback and refuses the rest without --allow-remote", () => {
    for (const a of ["127.0.0.1:1", "127.3.2.1:1", "localhost:1", "[::1]:1", "unix:/tmp/s"])
      expect(() => checkLiveAddress(a, false)).not.toThrow();
    for (const a of ["10.0.0.1:1", "mesh.example:443", "[2001:db8::1]:1", "0.0.0.0:1", "dns:///x.io:1"])
      expect(() => checkLiveAddress(a, false)).toThrow(/not a loopback address.*--allow-remote/);
    expect(() => checkLiveAddress("10.0.0.1:1", true)).not.toThrow();
    expect(isLoopback("::ffff:127.0.0.1")).toBe(true);
  });
});
