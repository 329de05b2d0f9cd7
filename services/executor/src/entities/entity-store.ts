import {
  type Feature,
  type Features,
  validateEntityId,
  validateFeatures,
  validateTenant,
} from "@prescient/core";

export { featureLimits, validateFeatures } from "@prescient/core";
export type { Feature, Features };

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

/** Validates a record from outside: ids, feature names, finite numbers, bounded sizes. */
export function validateEntityRecord(record: EntityRecord): EntityRecord {
  validateTenant(record.tenant);
  validateEntityId(record.entityId);
  validateFeatures(record.features, `entity ${record.entityId}`);
  return record;
}
