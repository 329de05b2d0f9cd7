import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { TenantRing } from "../ring/tenant-ring.js";
import { RingHandover } from "./ring-handover.js";

/**
 * RingHandover's decisions, against an analyzer that records what it is
 * asked (the ring end to end, on real Redis, is in analyzer-ring.test.ts).
 */
const tenants = Array.from({ length: 40 }, (_, i) => `t${i}`);
const a = "10.0.0.1:50054";
const b = "10.0.0.2:50054";
const settleMs = 20;
const quiet = pino({ level: "silent" });
const pause = (ms: number) => new Promise((res) => setTimeout(res, ms));

function rig(failAdoptions = 0) {
  const saved: string[][] = [];
  const adopted: string[][] = [];
  let failures = failAdoptions;
  const analyzer = {
    saveLearning: async (only?: (t: string) => boolean) => {
      const picked = tenants.filter((t) => only?.(t) ?? true);
      saved.push(picked);
      return picked.length;
    },
    adoptLearning: async (only: (t: string) => boolean) => {
      if (failures-- > 0) throw new Error("store unavailable");
      const picked = tenants.filter(only);
      adopted.push(picked);
      return picked.length;
    },
  };
  const ring = new TenantRing(a);
  const handover = new RingHandover(analyzer, ring, settleMs, quiet);
  /** The ring's view becomes `members`, as a heartbeat would tell it. */
  const view = (members: string[]) => {
    if (ring.update(members)) handover.changed(ring.members);
  };
  return { saved, adopted, ring, handover, view };
}

const ownerIn = (members: string[], t: string) => {
  const r = new TenantRing(members[0]!);
  r.update(members);
  return r.ownerOf(t);
};

let open: RingHandover | undefined;
afterEach(() => open?.close());

describe("RingHandover", () => {
  it("lets a replica alone keep every tenant: nothing to take, everything savable", async () => {
    const { adopted, handover } = rig();
    open = handover;
    handover.joined();
    await pause(3 * settleMs);
    expect(adopted).toEqual([]);
    expect(tenants.every((t) => handover.savable(t))).toBe(true);
  });

  it("saves at once what a replica loses, and takes over what it gains once the others have saved", async () => {
    const { saved, adopted, handover, view } = rig();
    open = handover;
    handover.joined();
    // b joins: a loses b's tenants and saves them now; it gains nothing.
    view([a, b]);
    const bs = tenants.filter((t) => ownerIn([a, b], t) === b);
    expect(bs.length).toBeGreaterThan(0);
    expect(saved).toEqual([bs]);
    await pause(3 * settleMs);
    expect(adopted).toEqual([[]]);
    // b leaves: a gains them back; until it has taken them over it may not save them.
    view([a]);
    expect(saved.at(-1)).toEqual([]);
    expect(bs.some((t) => handover.savable(t))).toBe(false);
    expect(tenants.filter((t) => !bs.includes(t)).every((t) => handover.savable(t))).toBe(true);
    await pause(3 * settleMs);
    expect(adopted.at(-1)).toEqual(bs);
    expect(bs.every((t) => handover.savable(t))).toBe(true);
  });

  it("takes over, on joining a ring, every tenant it owns: it held only what it restored when it started", async () => {
    const { adopted, handover, view } = rig();
    open = handover;
    // The first view already holds b (seen while joining).
    view([a, b]);
    handover.joined();
    const as = tenants.filter((t) => ownerIn([a, b], t) === a);
    expect(as.some((t) => handover.savable(t))).toBe(false);
    await pause(3 * settleMs);
    expect(adopted).toEqual([as]);
  });

  it("never saves a tenant it gained and lost again before taking it over, and does not take it", async () => {
    const { saved, adopted, handover, view } = rig();
    open = handover;
    view([a, b]);
    handover.joined();
    await pause(3 * settleMs);
    // b leaves and comes back within the settle time (a quick restart).
    view([a]);
    view([a, b]);
    const bs = tenants.filter((t) => ownerIn([a, b], t) === b);
    expect(saved.at(-1)?.filter((t) => bs.includes(t))).toEqual([]);
    await pause(3 * settleMs);
    expect(
      adopted
        .slice(1)
        .flat()
        .filter((t) => bs.includes(t)),
    ).toEqual([]);
  });

  it("tries a takeover again while the store fails, and keeps the tenants unsavable until it succeeds", async () => {
    const { adopted, handover, view } = rig(2);
    open = handover;
    view([a, b]);
    handover.joined();
    const as = tenants.filter((t) => ownerIn([a, b], t) === a);
    await pause(1.5 * settleMs);
    expect(adopted).toEqual([]);
    expect(as.some((t) => handover.savable(t))).toBe(false);
    await pause(4 * settleMs);
    expect(adopted).toEqual([as]);
    expect(as.every((t) => handover.savable(t))).toBe(true);
  });

  it("does nothing once closed, and still leaves out what it never took over", async () => {
    const { saved, adopted, handover, view } = rig();
    view([a, b]);
    handover.joined();
    handover.close();
    view([a]);
    await pause(3 * settleMs);
    expect(saved).toEqual([[]]);
    expect(adopted).toEqual([]);
    expect(tenants.filter((t) => ownerIn([a, b], t) === a).some((t) => handover.savable(t))).toBe(false);
  });
});
