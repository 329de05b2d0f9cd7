import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Redis Lua lives in `.lua` files, loaded by the kit's LuaCommand (ioredis
 * defineCommand: EVALSHA, the source on NOSCRIPT, on a node and a Cluster
 * alike). This fails when TypeScript sends a script itself or carries Lua in
 * a string, so that scripts stay reviewable as Lua, share includes, and go
 * through one loader. Tests are exempt: they may run a line of Lua inline.
 */
const repo = join(import.meta.dirname, "../..");
const roots = ["packages", "services"];
const skippedFolders = new Set(["node_modules", "dist", "testing"]);
const isTest = (name: string): boolean => /\.test(-util)?\.ts$/.test(name);

const forbidden: { what: string; pattern: RegExp }[] = [
  { what: "a raw EVAL call", pattern: /\.eval(?:Buffer|_ro|RoBuffer)?\s*\(/ },
  { what: "a raw EVALSHA call", pattern: /\.evalsha(?:Buffer|_ro|RoBuffer)?\s*\(/i },
  { what: "EVAL sent by name", pattern: /["'`](?:eval|evalsha)(?:_ro)?["'`]/i },
  { what: "inline Lua (redis.call)", pattern: /\bredis\.p?call\s*\(/ },
];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!skippedFolders.has(entry.name)) out.push(...sources(join(dir, entry.name)));
    } else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") && !isTest(entry.name)) {
      out.push(join(dir, entry.name));
    }
  }
  return out;
}

/** Every forbidden line in a TypeScript source, as `path:line: what`. */
function scriptViolations(path: string, text: string): string[] {
  const out: string[] = [];
  text.split("\n").forEach((line, i) => {
    for (const { what, pattern } of forbidden)
      if (pattern.test(line)) out.push(`${path}:${i + 1}: ${what}: ${line.trim().slice(0, 100)}`);
  });
  return out;
}

describe("Redis scripts", () => {
  it("live in .lua files: no TypeScript outside tests runs EVAL or holds Lua", () => {
    const files = roots.flatMap((r) => sources(join(repo, r)));
    expect(files.length).toBeGreaterThan(100);
    const violations = files.flatMap((f) => scriptViolations(relative(repo, f), readFileSync(f, "utf8")));
    expect(violations).toEqual([]);
  });

  it("catches each form", () => {
    const bad = [
      "await client.eval(lua, 1, key);",
      "pipeline.evalsha(sha, 1, key)",
      'client.call("EVALSHA", sha, 0)',
      "client.sendCommand(new Command('eval', [lua, 0]))",
      "const lua = `return redis.call('GET', KEYS[1])`;",
      "local ok = redis.pcall('INCR', k)",
    ];
    for (const line of bad) expect(scriptViolations("x.ts", line), line).toHaveLength(1);
    // Mentions in prose, and the defined commands, are fine.
    for (const line of [
      "// defineCommand sends EVALSHA, and the source on NOSCRIPT",
      "await cmd.run(client, keys)",
    ])
      expect(scriptViolations("x.ts", line), line).toEqual([]);
  });
});
