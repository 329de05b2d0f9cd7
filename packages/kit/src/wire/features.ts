import type { commonV1 } from "@prescient/contracts";
import { checkFeatureCount, type Features, InvalidArgumentError, validateFeatures } from "@prescient/core";

export function featuresToProto(features: Readonly<Features>): Record<string, commonV1.FeatureValue> {
  const out: Record<string, commonV1.FeatureValue> = {};
  for (const [name, v] of Object.entries(features))
    out[name] = typeof v === "number" ? { number: v } : { text: v };
  return out;
}

/**
 * Feature values from the wire: exactly one of number or text each, within
 * core's feature limits (names, finite numbers, text size). Errors name `field`.
 */
export function featuresFromProto(
  map: Readonly<Record<string, commonV1.FeatureValue>>,
  field: string,
): Features {
  const entries = Object.entries(map);
  checkFeatureCount(entries.length, field);
  const features: Features = {};
  for (const [name, value] of entries) {
    if (value.number !== undefined) features[name] = value.number;
    else if (value.text !== undefined) features[name] = value.text;
    else throw new InvalidArgumentError(`${field}.${name.slice(0, 64)} has neither number nor text`);
  }
  return validateFeatures(features, field);
}

/**
 * Features from parsed JSON (a CLI flag, a client's plain object): a flat
 * object of finite numbers and strings, checked before anything is sent.
 */
export function featuresFromJson(value: unknown, field: string): Features {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new InvalidArgumentError(`${field} must be an object of numbers and strings`);
  const entries = Object.entries(value);
  checkFeatureCount(entries.length, field);
  const out: Features = {};
  for (const [name, v] of entries) {
    if (typeof v === "number" || typeof v === "string") out[name] = v;
    else throw new InvalidArgumentError(`${field}.${name.slice(0, 64)} must be a number or a string`);
  }
  return validateFeatures(out, field);
}
