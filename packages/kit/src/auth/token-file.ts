import { sha256Hex } from "@prescient/core";
import { z } from "zod";
import { type Principal, roles } from "./principal.js";

/**
 * One entry of a tokens file. Only the token's SHA-256 is stored, so the
 * file (a Kubernetes Secret, a ConfigMap even) does not hold credentials.
 */
const entrySchema = z.object({
  /** `sha256:` and the hex SHA-256 of the token's UTF-8 bytes. */
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/i, "expected sha256:<64 hex digits>"),
  name: z.string().min(1),
  role: z.enum(roles),
  /** `*` for every tenant, or a list. */
  tenants: z.union([z.literal("*"), z.array(z.string().min(1))]),
});

export type TokenEntry = z.infer<typeof entrySchema>;

/** Hashes a token as the tokens file stores it: `sha256:<hex>`. */
export function hashToken(token: string): string {
  return `sha256:${sha256Hex(token)}`;
}

/**
 * Parses a tokens file: a JSON array of entries, `{"tokens": [...]}`, or JSON
 * Lines (one entry a line; blank lines and `#` comments skipped), e.g.
 *
 *     {"hash": "sha256:9f86...", "name": "ci", "role": "writer", "tenants": ["acme"]}
 *
 * Returns the principals by hash. Throws naming the bad entry.
 */
export function parseTokenFile(text: string): Map<string, Principal> {
  const raw = parseEntries(text);
  const byHash = new Map<string, Principal>();
  raw.forEach((item, i) => {
    const result = entrySchema.safeParse(item);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new Error(`entry ${i + 1}: ${issue?.path.join(".") || "entry"}: ${issue?.message ?? "invalid"}`);
    }
    const { hash, name, role, tenants } = result.data;
    const key = hash.toLowerCase();
    if (byHash.has(key)) throw new Error(`entry ${i + 1} (${name}): the same hash appears twice`);
    byHash.set(key, { name, role, tenants });
  });
  return byHash;
}

function parseEntries(text: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
    try {
      const whole: unknown = JSON.parse(trimmed);
      if (Array.isArray(whole)) return whole;
      const tokens = (whole as { tokens?: unknown }).tokens;
      if (Array.isArray(tokens)) return tokens;
      // One object that is not {tokens: [...]}: JSON Lines with one line.
      return [whole];
    } catch {
      // Not one JSON document: read it as JSON Lines below.
    }
  }
  return trimmed.split("\n").flatMap((line, i) => {
    const l = line.trim();
    if (l === "" || l.startsWith("#")) return [];
    try {
      return [JSON.parse(l) as unknown];
    } catch {
      throw new Error(`line ${i + 1}: not JSON`);
    }
  });
}
