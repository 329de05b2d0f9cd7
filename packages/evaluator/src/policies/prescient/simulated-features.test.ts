import { describe, expect, it } from "vitest";
import { SimulatedFeatures } from "./simulated-ports.js";

describe("SimulatedFeatures", () => {
  it("holds an entity's features once a model type missed on it or a trigger named it, per tenant", async () => {
    const features = new SimulatedFeatures((t) => t === "ctr_prediction");
    features.missed("acme", "ctr_prediction", "ad-1");
    // An external type's miss carries no features in a live replay.
    features.missed("acme", "dashboard_data", "ad-2");
    features.triggered("acme", "camp-1");
    features.triggered("acme", "");
    expect(
      await features.stored([
        { tenant: "acme", entityId: "ad-1" },
        { tenant: "acme", entityId: "ad-2" },
        { tenant: "acme", entityId: "camp-1" },
        { tenant: "other", entityId: "ad-1" },
        { tenant: "acme", entityId: "" },
      ]),
    ).toEqual([true, false, true, false, false]);
  });
});
