import { InvalidArgumentError } from "./errors.js";
import { escapeEntityId, validateTenant } from "./keys.js";

/**
 * A glob over `{task_type}/{entity_id}` inside one tenant. '*' matches any run
 * and '?' one character of a segment; neither crosses '/'. A backslash makes
 * the next character literal. Entity literals are escaped exactly as ids are,
 * so a pattern can never name a key outside its tenant.
 */
export interface CompiledPattern {
  tenant: string;
  /** Matches whole canonical keys. */
  regex: RegExp;
  /** A Redis SCAN MATCH glob that selects a superset of the matches. */
  redisGlob: string;
  /** Literal leading part of every matching key, for prefix scans. */
  literalPrefix: string;
}

export const patternMaxLength = 512;

export function compileKeyPattern(tenant: string, pattern: string): CompiledPattern {
  validateTenant(tenant);
  if (pattern.length === 0) throw new InvalidArgumentError("pattern is empty");
  if (pattern.length > patternMaxLength)
    throw new InvalidArgumentError(`pattern is longer than ${patternMaxLength} characters`);
  const slash = pattern.indexOf("/");
  const typeGlob = slash < 0 ? pattern : pattern.slice(0, slash);
  const entityGlob = slash < 0 ? "*" : pattern.slice(slash + 1);
  if (!/^[a-z0-9_*?]+$/.test(typeGlob))
    throw new InvalidArgumentError(
      `pattern's task type part ${JSON.stringify(typeGlob.slice(0, 80))} may hold only [a-z0-9_] and the wildcards '*' '?'`,
    );
  if (entityGlob.length === 0) throw new InvalidArgumentError("pattern's entity part is empty");

  const typeTokens = tokenize(typeGlob, (s) => s);
  const entityTokens = tokenize(entityGlob, escapeEntityId);
  const tokens = [...typeTokens, { literal: "/" }, ...entityTokens];
  const regexBody = tokens
    .map((t) => ("literal" in t ? escapeRegex(t.literal) : t.wild === "*" ? "[^/]*" : "[^/]"))
    .join("");
  const globBody = tokens.map((t) => ("literal" in t ? t.literal : t.wild)).join("");
  let literal = "";
  for (const t of tokens) {
    if (!("literal" in t)) break;
    literal += t.literal;
  }
  return {
    tenant,
    regex: new RegExp(`^${escapeRegex(tenant)}/${regexBody}$`),
    redisGlob: `${tenant}/${globBody}`,
    literalPrefix: `${tenant}/${literal}`,
  };
}

type Token = { literal: string } | { wild: "*" | "?" };

function tokenize(glob: string, escapeLiteral: (s: string) => string): Token[] {
  const tokens: Token[] = [];
  let run = "";
  const flush = (): void => {
    if (run.length > 0) tokens.push({ literal: escapeLiteral(run) });
    run = "";
  };
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "\\") {
      const next = glob[i + 1];
      if (next === undefined) throw new InvalidArgumentError("pattern ends with a lone backslash");
      run += next;
      i++;
    } else if (c === "*" || c === "?") {
      flush();
      tokens.push({ wild: c });
    } else {
      run += c;
    }
  }
  flush();
  return tokens;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
