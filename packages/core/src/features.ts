import { InvalidArgumentError } from "./errors.js";

/**
 * An entity's features as the models read them: a flat map of numbers and
 * strings (common.v1.FeatureValue on the wire). One definition for every
 * service, the CLI and the client.
 */
export type Feature = number | string;
export type Features = Record<string, Feature>;

/** What one entity's or one request's features may hold. */
export const featureLimits = {
  maxFeatures: 256,
  maxNameLength: 128,
  maxTextBytes: 4096,
} as const;

const featureNamePattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Counts first, so an oversized map is refused before anything loops over it. */
export function checkFeatureCount(count: number, owner: string): void {
  if (count > featureLimits.maxFeatures)
    throw new InvalidArgumentError(
      `${owner} has ${count} features; the limit is ${featureLimits.maxFeatures}`,
    );
}

/** Validates a feature map from outside; `owner` names what it belongs to in messages. */
export function validateFeatures(features: Features, owner: string): Features {
  const names = Object.keys(features);
  checkFeatureCount(names.length, owner);
  for (const name of names) {
    if (name.length > featureLimits.maxNameLength || !featureNamePattern.test(name))
      throw new InvalidArgumentError(
        `feature name ${JSON.stringify(name.slice(0, 80))} must match ${featureNamePattern.source} (at most ${featureLimits.maxNameLength} characters)`,
      );
    const value = features[name];
    if (typeof value === "number" && !Number.isFinite(value))
      throw new InvalidArgumentError(`${owner}: feature ${name} is not a finite number`);
    if (typeof value === "string" && Buffer.byteLength(value) > featureLimits.maxTextBytes)
      throw new InvalidArgumentError(
        `${owner}: feature ${name} is longer than ${featureLimits.maxTextBytes} bytes`,
      );
  }
  return features;
}
