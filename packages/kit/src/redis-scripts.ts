import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChainableCommander } from "ioredis";
import type { RedisClient } from "./redis-connection.js";

/**
 * Every Redis Lua script of the mesh lives in a `.lua` file and reaches Redis
 * through ioredis `defineCommand`, as BullMQ's do: the file is read once,
 * its includes resolved, and the command sends the source the first time on
 * each connection and EVALSHA after, sending the source again on NOSCRIPT
 * (SCRIPT FLUSH), on a node and on a Cluster alike. No store writes EVAL.
 *
 * Includes, BullMQ style: a line `--- @include "name"` is replaced by
 * `includes/name.lua` from the folder of the script being loaded (includes
 * of includes name files of that same folder). Each include goes in once, at
 * its first mention, so scripts can share local functions; a missing,
 * malformed or cyclic include is an error that names the files involved.
 */

/** Includes are named like every other file (kebab-case), and by name only: no path can leave `includes/`. */
const includeName = /^[a-z0-9][a-z0-9-]*$/;
const includeLine = /^[ \t]*---[ \t]*@include\b(.*)$/gm;
const includeTarget = /^[ \t]+"([^"]*)"[ \t]*\r?$/;

/**
 * Where a `.lua` file is read from at run time. tsc copies no `.lua` files
 * into dist/, so a path inside a package's dist/ (what `import.meta.url`
 * gives compiled code) is read from the same place in its src/, the sibling
 * folder tsc compiles (rootDir src, outDir dist in every package). Tests run
 * from src/ and need no mapping. The image ships src/ (the Dockerfile copies
 * the whole tree; .dockerignore leaves out dist/ and node_modules/, which it
 * rebuilds), so this one rule serves tests and production, with no copy step
 * in the build to forget and no stale copy in dist/ to read by mistake. (The
 * services are private packages; one published would list its src .lua
 * files in package.json `files`.)
 */
export function luaSourcePath(file: URL | string): string {
  const path = typeof file === "string" ? file : fileURLToPath(file);
  if (!isAbsolute(path)) throw new Error(`Lua script path must be absolute (or a file: URL): ${path}`);
  const parts = path.split(sep);
  const dist = parts.lastIndexOf("dist");
  if (dist >= 0) parts[dist] = "src";
  return parts.join(sep);
}

/** Resolved text per script file: each is read and expanded once per process. */
const loaded = new Map<string, string>();

/** A script's Lua with its includes resolved (cached per file; see luaSourcePath for where it is read). */
export function loadLua(file: URL | string): string {
  const path = luaSourcePath(file);
  let lua = loaded.get(path);
  if (lua === undefined) {
    lua = expand(path, join(dirname(path), "includes"), [], new Set());
    loaded.set(path, lua);
  }
  return lua;
}

/**
 * `path`'s text with its includes replaced. `stack` is the chain of files
 * that included it (for cycles), `done` the includes already placed.
 */
function expand(path: string, includes: string, stack: readonly string[], done: Set<string>): string {
  const chain = [...stack, path];
  const includer = stack.at(-1);
  const text = read(path, includer === undefined ? "Lua script" : `${show(includer)}: @include of`);
  return text.replace(includeLine, (line, rest: string) => {
    const name = includeTarget.exec(rest)?.[1];
    if (name === undefined || !includeName.test(name))
      throw new Error(
        `${show(path)}: malformed ${JSON.stringify(line.trim())}; write --- @include "kebab-case-name"`,
      );
    const target = join(includes, `${name}.lua`);
    if (chain.includes(target))
      throw new Error(`cyclic @include: ${[...chain, target].map(show).join(" -> ")}`);
    if (done.has(target)) return "";
    done.add(target);
    return expand(target, includes, chain, done).replace(/\r?\n$/, "");
  });
}

function read(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${what} ${path}: ${code === "ENOENT" ? "no such file" : String(e)}`);
  }
}

/** A path short enough for an error: its folder and name. */
function show(path: string): string {
  return path.split(sep).slice(-2).join("/");
}

export interface LuaCommandOptions {
  /**
   * How many KEYS every call passes: ioredis then sends the count itself.
   * Default undefined: the number varies from call to call, and each call
   * passes it (run and queue do, from the keys given).
   */
  numberOfKeys: number | undefined;
}

/** What scripts take after their keys. */
export type LuaArg = string | number | Buffer;

/** Commands this module defined, per client: name → what was defined under it. */
const definedOn = new WeakMap<object, Map<string, string>>();

/**
 * One script, defined as a custom command on the clients that run it. Make
 * one per script at module level; `define` a client (idempotent) before
 * making a pipeline from it, since a pipeline takes the client's commands
 * as they are when it is made. The name becomes a method of the client, so
 * it must not clash with a Redis command: prefix it (prescientQueueClaim).
 */
export class LuaCommand {
  readonly name: string;
  /** The `.lua` file, as luaSourcePath resolves it. */
  readonly file: string;
  readonly numberOfKeys: number | undefined;
  #sha: string | undefined;

  constructor(name: string, file: URL | string, options?: Partial<LuaCommandOptions>) {
    if (!/^[a-z][A-Za-z0-9]*$/.test(name))
      throw new Error(`Lua command name must be camelCase letters and digits: ${JSON.stringify(name)}`);
    const n = options?.numberOfKeys;
    if (n !== undefined && !(Number.isInteger(n) && n >= 0))
      throw new Error(`${name}: numberOfKeys must be a whole number >= 0`);
    this.name = name;
    this.file = luaSourcePath(file);
    this.numberOfKeys = n;
  }

  /** The Lua sent to Redis, includes resolved. */
  get lua(): string {
    return loadLua(this.file);
  }

  /** SHA1 of the Lua: what EVALSHA and SCRIPT EXISTS name it by. */
  get sha(): string {
    this.#sha ??= createHash("sha1").update(this.lua).digest("hex");
    return this.#sha;
  }

  /** What a definition is told apart by: the same Lua with the same key count is the same command. */
  get #identity(): string {
    return `${this.numberOfKeys ?? "n"}:${this.sha}`;
  }

  /**
   * Registers the command on a client (a node or a Cluster). Again on the
   * same client is a no-op; a different script under the same name, or a
   * name the client already answers to (a Redis command, a method), throws
   * rather than silently replacing it.
   */
  define(client: RedisClient): void {
    const what = this.#identity;
    let names = definedOn.get(client);
    const before = names?.get(this.name);
    if (before === what) return;
    const lua = this.lua;
    if (before !== undefined)
      throw new Error(`Redis command ${this.name} is defined on this client already, with other Lua`);
    if (this.name in client)
      throw new Error(`Redis command ${this.name} would replace what the client has under that name`);
    client.defineCommand(
      this.name,
      this.numberOfKeys === undefined ? { lua } : { lua, numberOfKeys: this.numberOfKeys },
    );
    if (names === undefined) {
      names = new Map();
      definedOn.set(client, names);
    }
    names.set(this.name, what);
  }

  /** Runs the script on a client, defining it there first if needed. */
  run<T = unknown>(client: RedisClient, keys: readonly string[], args: readonly LuaArg[] = []): Promise<T> {
    this.define(client);
    return this.#method(client).apply(client, this.#args(keys, args)) as Promise<T>;
  }

  /** Adds a call to a pipeline (or MULTI) made from a client this command was defined on. */
  queue(
    pipeline: ChainableCommander,
    keys: readonly string[],
    args: readonly LuaArg[] = [],
  ): ChainableCommander {
    this.#method(pipeline).apply(pipeline, this.#args(keys, args));
    return pipeline;
  }

  #method(target: object): (...args: unknown[]) => unknown {
    const f = (target as Record<string, unknown>)[this.name];
    if (typeof f !== "function")
      throw new Error(
        `Redis command ${this.name} is not defined here: define it on the client before making a pipeline from it`,
      );
    return f as (...args: unknown[]) => unknown;
  }

  #args(keys: readonly string[], args: readonly LuaArg[]): unknown[] {
    if (this.numberOfKeys === undefined) return [keys.length, ...keys, ...args];
    if (keys.length !== this.numberOfKeys)
      throw new Error(`${this.name} takes ${this.numberOfKeys} keys, not ${keys.length}`);
    return [...keys, ...args];
  }
}

/** Defines several commands on a client (see LuaCommand.define). */
export function defineLuaCommands(client: RedisClient, commands: Iterable<LuaCommand>): void {
  for (const c of commands) c.define(client);
}
