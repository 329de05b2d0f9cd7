import { describe, expect, it } from "vitest";
import { liveAddresses, parseAddressList, RoundRobin } from "./replicas.js";

describe("a live replay's replicas", () => {
  it("puts every service at --addr unless its replicas are given", () => {
    expect(liveAddresses("127.0.0.1:1")).toEqual({
      cache: ["127.0.0.1:1"],
      precomputer: ["127.0.0.1:1"],
      executor: ["127.0.0.1:1"],
      analyzer: ["127.0.0.1:1"],
    });
    expect(
      liveAddresses("127.0.0.1:1", { cache: ["127.0.0.1:2", "127.0.0.1:3"], analyzer: ["127.0.0.1:4"] }),
    ).toEqual({
      cache: ["127.0.0.1:2", "127.0.0.1:3"],
      precomputer: ["127.0.0.1:1"],
      executor: ["127.0.0.1:1"],
      analyzer: ["127.0.0.1:4"],
    });
    expect(() => liveAddresses("127.0.0.1:1", { executor: [] })).toThrow(/no empty address/);
  });

  it("reads comma-separated lists, repeated or not, trimmed", () => {
    expect(parseAddressList(undefined)).toBeUndefined();
    expect(parseAddressList("a:1, b:2,")).toEqual(["a:1", "b:2"]);
    expect(parseAddressList(["a:1", "b:2,c:3"])).toEqual(["a:1", "b:2", "c:3"]);
  });

  it("hands each call to the next replica in turn", () => {
    const r = new RoundRobin(["a", "b", "c"]);
    expect(Array.from({ length: 7 }, () => r.next())).toEqual(["a", "b", "c", "a", "b", "c", "a"]);
    expect(() => new RoundRobin([])).toThrow(/over nothing/);
  });
});
