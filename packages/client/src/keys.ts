import type { commonV1 } from "@prescient/contracts";
import { formatKey, inputDigest, type KeyParts, parseHumanKey } from "@prescient/core";
import { keyToProto } from "@prescient/kit/wire";

/**
 * A key as a backend names it: the text `tenant/task_type/entity_id`, its
 * parts, or semantic inputs whose RFC 8785 canonical JSON is digested here
 * exactly as the server would (so the key can be logged or compared).
 */
export type KeyInput =
  | string
  | KeyParts
  | { tenant: string; taskType: string; inputs: Record<string, unknown> };

export interface WireKey {
  /** The canonical key the cache stores under. */
  key: string;
  proto: commonV1.Key;
}

export function toWireKey(input: KeyInput): WireKey {
  const parts: KeyParts =
    typeof input === "string"
      ? parseHumanKey(input)
      : "inputs" in input
        ? { tenant: input.tenant, taskType: input.taskType, digest: inputDigest(input.inputs) }
        : input;
  // formatKey validates tenant, type and entity before anything is sent.
  return { key: formatKey(parts), proto: keyToProto(parts) };
}
