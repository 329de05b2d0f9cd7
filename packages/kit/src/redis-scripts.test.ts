import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, inject, it } from "vitest";
import { connectRedis, type RedisClient } from "./redis-connection.js";
import { LuaCommand, loadLua, luaSourcePath } from "./redis-scripts.js";

/** A throwaway package folder with src/ holding the given files (path → text). */
const root = mkdtempSync(join(tmpdir(), "prescient-lua-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let folders = 0;
function scripts(files: Record<string, string>): string {
  const dir = join(root, `pkg-${folders++}`, "src", "store");
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe("loadLua", () => {
  it("places each include once, at its first mention, includes of includes too", () => {
    const dir = scripts({
      "main.lua": '--- @include "keys"\n--- @include "counter"\nreturn bump(KEYS[1])\n',
      "includes/keys.lua": "local function key(k) return k end\n",
      "includes/counter.lua":
        "--- @include \"keys\"\nlocal function bump(k) return redis.call('INCR', key(k)) end\n",
    });
    const lua = loadLua(join(dir, "main.lua"));
    expect(lua).toBe(
      "local function key(k) return k end\n\nlocal function bump(k) return redis.call('INCR', key(k)) end\nreturn bump(KEYS[1])\n",
    );
    expect(lua.match(/local function key/g)).toHaveLength(1);
  });

  it("names the files when an include is missing", () => {
    const dir = scripts({ "main.lua": '--- @include "nowhere"\nreturn 1\n' });
    expect(() => loadLua(join(dir, "main.lua"))).toThrow(
      /^store\/main\.lua: @include of .*\/store\/includes\/nowhere\.lua: no such file$/,
    );
    expect(() => loadLua(join(dir, "absent.lua"))).toThrow(/^Lua script .*\/absent\.lua: no such file$/);
  });

  it("refuses a cycle, showing it", () => {
    const dir = scripts({
      "main.lua": '--- @include "a"\nreturn 1\n',
      "includes/a.lua": '--- @include "b"\n',
      "includes/b.lua": '--- @include "a"\n',
    });
    expect(() => loadLua(join(dir, "main.lua"))).toThrow(
      "cyclic @include: store/main.lua -> includes/a.lua -> includes/b.lua -> includes/a.lua",
    );
    const self = scripts({ "main.lua": '--- @include "me"\n', "includes/me.lua": '--- @include "me"\n' });
    expect(() => loadLua(join(self, "main.lua"))).toThrow(/cyclic @include: .* -> includes\/me\.lua$/);
  });

  it("refuses a malformed include, or a name that is a path", () => {
    for (const line of [
      "--- @include 'single'",
      '--- @include "../escape"',
      "--- @include",
      '--- @include "A"',
    ])
      expect(() => loadLua(join(scripts({ "main.lua": `${line}\nreturn 1\n` }), "main.lua"))).toThrow(
        /malformed/,
      );
  });

  it("reads each file once per process", () => {
    const dir = scripts({ "main.lua": "return 1\n" });
    const first = loadLua(join(dir, "main.lua"));
    writeFileSync(join(dir, "main.lua"), "return 2\n");
    expect(loadLua(pathToFileURL(join(dir, "main.lua")))).toBe(first);
  });

  it("reads a path under dist/ from the sibling src/ (tsc copies no .lua files)", () => {
    const dir = scripts({ "main.lua": "return 'from src'\n" });
    const compiled = dir.replace(/\/src\/store$/, "/dist/store");
    expect(luaSourcePath(pathToFileURL(join(compiled, "main.lua")))).toBe(join(dir, "main.lua"));
    expect(loadLua(pathToFileURL(join(compiled, "main.lua")))).toBe("return 'from src'\n");
    expect(luaSourcePath(join(dir, "main.lua"))).toBe(join(dir, "main.lua"));
    expect(() => luaSourcePath("relative/main.lua")).toThrow(/absolute/);
  });
});

describe("LuaCommand on Redis", () => {
  const dir = scripts({
    "incr-both.lua": '--- @include "incr"\nreturn { incr(KEYS[1]), incr(KEYS[2]), ARGV[1] }\n',
    "count-keys.lua": "return #KEYS\n",
    "other.lua": "return 'other'\n",
    "includes/incr.lua": "local function incr(k) return redis.call('INCR', k) end\n",
  });
  const incrBoth = new LuaCommand("testIncrBoth", join(dir, "incr-both.lua"), { numberOfKeys: 2 });
  const countKeys = new LuaCommand("testCountKeys", pathToFileURL(join(dir, "count-keys.lua")));

  for (const kind of ["node", "cluster"] as const) {
    it(`runs defined scripts, alone and in a pipeline, on a ${kind}`, async () => {
      const client: RedisClient = connectRedis(inject(kind === "node" ? "redisUrl" : "redisClusterUrl"));
      const tag = `{lua-${randomUUID().slice(0, 8)}}`;
      try {
        expect(await incrBoth.run(client, [`${tag}:a`, `${tag}:b`], ["x"])).toEqual([1, 1, "x"]);
        expect(await countKeys.run(client, [`${tag}:a`, `${tag}:b`, `${tag}:c`])).toBe(3);
        // Again after the server lost it: ioredis sends the source on NOSCRIPT.
        await client.script("FLUSH");
        expect(await incrBoth.run(client, [`${tag}:a`, `${tag}:b`], ["y"])).toEqual([2, 2, "y"]);
        const pipeline = client.pipeline();
        incrBoth.queue(pipeline, [`${tag}:a`, `${tag}:b`], ["z"]);
        countKeys.queue(pipeline, [`${tag}:a`]);
        expect(await pipeline.exec()).toEqual([
          [null, [3, 3, "z"]],
          [null, 1],
        ]);
        await client.del(`${tag}:a`, `${tag}:b`);
      } finally {
        client.disconnect();
      }
    });
  }

  it("defines once per client, and refuses clashes and miscounted keys", async () => {
    const client = connectRedis(inject("redisUrl"));
    try {
      incrBoth.define(client);
      incrBoth.define(client);
      expect(() => new LuaCommand("testIncrBoth", join(dir, "other.lua")).define(client)).toThrow(
        /defined on this client already, with other Lua/,
      );
      expect(() => new LuaCommand("get", join(dir, "other.lua")).define(client)).toThrow(/would replace/);
      expect(() => incrBoth.run(client, ["only-one"])).toThrow(/takes 2 keys, not 1/);
      const early = client.pipeline();
      expect(() => new LuaCommand("testLate", join(dir, "other.lua")).queue(early, [])).toThrow(
        /define it on the client before making a pipeline/,
      );
      expect(() => new LuaCommand("Bad-Name", join(dir, "other.lua"))).toThrow(/camelCase/);
      await incrBoth.run(client, ["{sha}:a", "{sha}:b"]);
      expect(await client.script("EXISTS", incrBoth.sha)).toEqual([1]);
      await client.del("{sha}:a", "{sha}:b");
    } finally {
      client.disconnect();
    }
  });
});
