import { isDomainError } from "@prescient/core";

/**
 * Whether an error means the store failed. Other domain errors are the
 * caller's (bad input, a full queue, an unknown id): the store answered.
 */
export function isStoreFailure(e: unknown): boolean {
  if (!isDomainError(e)) return true;
  return e.kind === "unavailable" || e.kind === "deadline_exceeded" || e.kind === "internal";
}

/**
 * Wraps a store so that every call of one of its methods that fails with a
 * store failure (see isStoreFailure) is told to `onFailure` with the
 * method's name, a bounded label. Counting at the store's boundary catches
 * every caller, including ones added later; the error still propagates.
 * `this` inside the methods stays the store itself, so private fields work.
 */
export function countFailures<T extends object>(store: T, onFailure: (operation: string) => void): T {
  const wrapped = new Map<string, { original: unknown; call: unknown }>();
  const report = (operation: string, e: unknown): void => {
    if (isStoreFailure(e)) onFailure(operation);
  };
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function" || typeof prop !== "string" || prop === "constructor") return value;
      const cached = wrapped.get(prop);
      if (cached?.original === value) return cached.call;
      const method = value as (...args: unknown[]) => unknown;
      const call = (...args: unknown[]): unknown => {
        let result: unknown;
        try {
          result = method.apply(target, args);
        } catch (e) {
          report(prop, e);
          throw e;
        }
        if (result instanceof Promise)
          return result.catch((e: unknown) => {
            report(prop, e);
            throw e;
          });
        return result;
      };
      wrapped.set(prop, { original: value, call });
      return call;
    },
  });
}
