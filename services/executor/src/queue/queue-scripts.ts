import { LuaCommand } from "@prescient/kit";

/**
 * Record fields a claim returns, positionally (redis-codec.ts decodes them),
 * in the order of FIELDS in redis-scripts/claim.lua; queue-scripts.test.ts
 * keeps the two in step.
 */
export const claimFields = [
  "key",
  "type",
  "tenant",
  "priority",
  "reasons",
  "attempts",
  "created",
  "notbefore",
  "error",
  "traceparent",
  "payload",
] as const;

/** Fields per task in the enqueue script's ARGV, after the five fixed ones (FIELDS in enqueue.lua). */
export const enqueueFields = 10;

/**
 * A queue script: redis-scripts/<file>.lua, with redis-scripts/includes/lib.lua
 * (the key layout and shared functions) included. Each takes one key, the
 * partition's `types` set, which routes the call to the partition's slot.
 */
const script = (name: string, file: string): LuaCommand =>
  new LuaCommand(`prescientQueue${name}`, new URL(`./redis-scripts/${file}.lua`, import.meta.url), {
    numberOfKeys: 1,
  });

/** The queue's scripts, by the operation they serve (which store errors name). */
export const queueScripts = {
  enqueue: script("Enqueue", "enqueue"),
  claim: script("Claim", "claim"),
  requeueExpired: script("RequeueExpired", "requeue-expired"),
  ack: script("Ack", "ack"),
  fail: script("Fail", "fail"),
  release: script("Release", "release"),
  extendLease: script("ExtendLease", "extend-lease"),
  listDeadLetters: script("ListDeadLetters", "list-dead-letters"),
  requeueDeadLetters: script("RequeueDeadLetters", "requeue-dead-letters"),
  purgeDeadLetters: script("PurgeDeadLetters", "purge-dead-letters"),
  stats: script("Stats", "stats"),
  getByKey: script("GetByKey", "get-by-key"),
} as const;

export type QueueOperation = keyof typeof queueScripts;
