import { InvalidArgumentError } from "@prescient/core";

/**
 * Where a live replay finds each service it calls. A mesh run as one process
 * (`prescient up`) answers all four at one address; a split mesh runs each
 * service as replicas of its own, and the replay spreads its calls over them
 * round-robin, as a load balancer in front of each would.
 */
export interface LiveAddresses {
  /** CacheService replicas: lookups, and the Stats summed over them. */
  cache: string[];
  /** PrecomputerService replicas: triggers, and the Stats summed over them. */
  precomputer: string[];
  /** ExecutorService replicas: QueueStats, of the queue they share. */
  executor: string[];
  /** AnalyzerService replicas: the backends' actions and launch announcements (backend-calls.ts). */
  analyzer: string[];
}

/** Each service's replicas: the ones given, else `addr` alone. */
export function liveAddresses(addr: string, given: Partial<LiveAddresses> = {}): LiveAddresses {
  const or = (list: string[] | undefined, service: string): string[] => {
    if (list === undefined) return [addr];
    if (list.length === 0 || list.some((a) => a.trim() === ""))
      throw new InvalidArgumentError(`no empty address in the ${service} replicas: ${JSON.stringify(list)}`);
    return list;
  };
  return {
    cache: or(given.cache, "cache"),
    precomputer: or(given.precomputer, "precomputer"),
    executor: or(given.executor, "executor"),
    analyzer: or(given.analyzer, "analyzer"),
  };
}

/** `a,b,c` (repeatable flags joined), trimmed; undefined when none was given. */
export function parseAddressList(items: string[] | string | undefined): string[] | undefined {
  if (items === undefined) return undefined;
  const list = (Array.isArray(items) ? items : [items]).flatMap((i) => i.split(",")).map((a) => a.trim());
  return list.filter((a) => a !== "");
}

/** Hands out items in turn: each call to the next replica. */
export class RoundRobin<T> {
  readonly items: readonly T[];
  #next = 0;

  constructor(items: readonly T[]) {
    if (items.length === 0) throw new InvalidArgumentError("round robin over nothing");
    this.items = items;
  }

  next(): T {
    const item = this.items[this.#next] as T;
    this.#next = (this.#next + 1) % this.items.length;
    return item;
  }
}
