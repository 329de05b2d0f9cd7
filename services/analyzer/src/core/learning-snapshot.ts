import { z } from "zod";

/**
 * What the analyzer has learned of one tenant, as saved to its store so that
 * a restart, or the replica a tenant moves to, starts from it rather than
 * from nothing: the learned fan-out rules, what users read next after their
 * reads and actions, the entity relations, and which key follows which. Decayed values are kept as
 * they are held (a weight and the time it is as of, or weights scaled to a
 * landmark), so a snapshot read a day later has decayed by a day.
 *
 * Tuples, not objects: a tenant's relations run to hundreds of thousands,
 * and field names would be most of the bytes. The tenant is not inside: a
 * record is stored under its tenant, which is the only tenant it restores.
 */
export const learningSnapshotVersion = 1;

const decayed = z.tuple([z.number().finite().nonnegative(), z.number().finite()]);
const text = z.string().min(1).max(1024);

/** Per event type: its decayed count, and per target (task type, keyed by) the decayed reads and Σ delay. */
const fanOutSchema = z.array(
  z.tuple([
    text,
    decayed,
    z.array(
      z.tuple([
        text,
        z.enum(["entity", "user", "related"]),
        z.number().finite().nonnegative(),
        z.number().finite(),
        z.number().finite().nonnegative(),
        z.number().finite(),
      ]),
    ),
  ]),
);

/** Per subject: its landmark, latest relation time, and per entity the landmark-scaled weight and tags; per task type its kind tags. */
const relationsSchema = z.object({
  subjects: z.array(
    z.tuple([
      text,
      z.number().finite(),
      z.number().finite(),
      z.array(z.tuple([text, z.number().finite().positive(), z.array(text)])),
    ]),
  ),
  kinds: z.array(z.tuple([text, z.array(text)])),
});

/**
 * Per source key (without its tenant): its landmark, its landmark-scaled
 * transitions out, and per successor key (without its tenant) the scaled
 * weight and Σ weight × gap.
 */
const chainsSchema = z.array(
  z.tuple([
    text,
    z.number().finite(),
    z.number().finite().positive(),
    z.array(z.tuple([text, z.number().finite().positive(), z.number().finite().nonnegative()])),
  ]),
);

export const learningSnapshotSchema = z.object({
  v: z.literal(learningSnapshotVersion),
  fanOut: fanOutSchema,
  nextReads: fanOutSchema,
  relations: relationsSchema,
  chains: chainsSchema,
  /**
   * When a read of the tenant last named its user (UserNamingTenants).
   * Optional: records saved before it was kept still restore.
   */
  namedAt: z.number().finite().optional(),
});

export type FanOutSnapshot = z.infer<typeof fanOutSchema>;
export type RelationsSnapshot = z.infer<typeof relationsSchema>;
export type ChainsSnapshot = z.infer<typeof chainsSchema>;
export type LearningSnapshot = z.infer<typeof learningSnapshotSchema>;

/** The snapshot in a stored body, or why it cannot be restored (not JSON, another version, a bad shape). */
export function parseLearningSnapshot(
  body: string,
): { ok: true; snapshot: LearningSnapshot } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  const parsed = learningSnapshotSchema.safeParse(json);
  if (parsed.success) return { ok: true, snapshot: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, reason: `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}` };
}

/** Ids scopedId handed out last, and what they were made of: a ring of `scopedMemo`. */
const scopedMemo = 4;
const memoTenants: string[] = Array.from({ length: scopedMemo }, () => "");
const memoIds: string[] = Array.from({ length: scopedMemo }, () => "\u0000");
const memoOut: string[] = Array.from({ length: scopedMemo }, () => "");
let memoNext = 0;

/**
 * `${tenant}\0${id}`, the map key of a tenant's subject, event type or
 * entity. The last few are handed back as the same string: one read asks
 * about its user and its entity in a dozen maps, and a string built anew is
 * flattened and hashed anew by each of them.
 */
export function scopedId(tenant: string, id: string): string {
  for (let i = 0; i < scopedMemo; i++) if (memoIds[i] === id && memoTenants[i] === tenant) return memoOut[i]!;
  const out = `${tenant}\u0000${id}`;
  memoTenants[memoNext] = tenant;
  memoIds[memoNext] = id;
  memoOut[memoNext] = out;
  memoNext = (memoNext + 1) % scopedMemo;
  return out;
}

/** The tenant of a `${tenant}\0${rest}` map key (validated ids hold no NUL). */
export function tenantOfId(id: string): string {
  const i = id.indexOf("\u0000");
  return i < 0 ? id : id.slice(0, i);
}

/**
 * Deletes from each map the entries of these tenants, before their saved
 * state replaces them (Learning.replace). `tenantOf` reads a key's tenant:
 * tenantOfId for scopedId keys, by default.
 */
export function dropTenantEntries(
  maps: ReadonlyArray<{ keys(): Iterable<string>; delete(key: string): unknown }>,
  tenants: ReadonlySet<string>,
  tenantOf: (key: string) => string = tenantOfId,
): void {
  // The keys are copied first: deleting from a map while iterating it may skip entries.
  for (const map of maps) for (const key of [...map.keys()]) if (tenants.has(tenantOf(key))) map.delete(key);
}
