import { InvalidArgumentError, validateEntityId, validateTenant } from "@prescient/core";

/** A feature value: entities carry a flat map of numbers and strings. */
export type Feature = number | string;
export type Features = Record<string, Feature>;

export interface EntityRef {
  tenant: string;
  entityId: string;
}

export interface EntityRecord extends EntityRef {
  features: Features;
}

/**
 * Where entity features live, so that scheduled and refresh runs can rebuild
 * a task's inputs long after the trigger that carried them. Upserts merge
 * field by field: a trigger that carries two features does not erase others.
 * Two implementations (memory, Redis) pass one conformance suite.
 */
export interface EntityStore {
  readonly name: string;
  ready(): Promise<void>;
  upsertMany(records: readonly EntityRecord[]): Promise<void>;
  /** Features of each ref, in order; undefined for an entity never seen. */
  getMany(refs: readonly EntityRef[]): Promise<(Features | undefined)[]>;
  /** Forgets entities; answers how many existed. */
  delete(refs: readonly EntityRef[]): Promise<number>;
  close(): Promise<void>;
}

export const featureLimits = {
  maxFeatures: 256,
  maxNameLength: 128,
  maxTextBytes: 4096,
} as const;

const featureNamePattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Validates a record from outside: ids, feature names, finite numbers, bounded sizes. */
export function validateEntityRecord(record: EntityRecord): EntityRecord {
  validateTenant(record.tenant);
  validateEntityId(record.entityId);
  validateFeatures(record.features, `entity ${record.entityId}`);
  return record;
}

/** Validates a feature map from outside; `owner` names what it belongs to in messages. */
export function validateFeatures(features: Features, owner: string): Features {
  const names = Object.keys(features);
  if (names.length > featureLimits.maxFeatures)
    throw new InvalidArgumentError(
      `${owner} has ${names.length} features; the limit is ${featureLimits.maxFeatures}`,
    );
  for (const name of names) {
    if (name.length > featureLimits.maxNameLength || !featureNamePattern.test(name))
      throw new InvalidArgumentError(
        `feature name ${JSON.stringify(name.slice(0, 80))} must match ${featureNamePattern.source} (at most ${featureLimits.maxNameLength} characters)`,
      );
    const value = features[name];
    if (typeof value === "number" && !Number.isFinite(value))
      throw new InvalidArgumentError(`feature ${name} of ${owner} is not a finite number`);
    if (typeof value === "string" && Buffer.byteLength(value) > featureLimits.maxTextBytes)
      throw new InvalidArgumentError(`feature ${name} is longer than ${featureLimits.maxTextBytes} bytes`);
  }
  return features;
}
