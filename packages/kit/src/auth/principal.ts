import { PermissionDeniedError } from "@prescient/core";

/**
 * What a token may do. Each role includes the ones before it: a writer may
 * read, an admin may write.
 */
export const roles = ["reader", "writer", "admin"] as const;
export type Role = (typeof roles)[number];

/** Tenants a token may touch: a list, or every tenant. */
export type TenantGrant = "*" | readonly string[];

/** Who a call is from, once its token checked out. */
export interface Principal {
  /** For logs and error messages; never the token. */
  name: string;
  role: Role;
  tenants: TenantGrant;
}

/**
 * Stands for "every tenant" in what an RPC touches: a request whose tenant
 * filter is empty (Stats, Invalidate, TopPatterns, ...). Only an admin of
 * every tenant may ask that.
 */
export const allTenants: unique symbol = Symbol("every tenant");
export type TenantRef = string | typeof allTenants;

const rank: Record<Role, number> = { reader: 0, writer: 1, admin: 2 };

export function roleAllows(held: Role, needed: Role): boolean {
  return rank[held] >= rank[needed];
}

export const isRole = (value: unknown): value is Role => roles.includes(value as Role);

/** Throws PermissionDeniedError unless the principal's role and tenants cover the call. */
export function checkAccess(
  principal: Principal,
  method: string,
  needed: Role,
  tenants: Iterable<TenantRef>,
): void {
  if (!roleAllows(principal.role, needed))
    throw new PermissionDeniedError(
      `${method} needs the ${needed} role; ${principal.name} is ${principal.role}`,
    );
  for (const tenant of tenants) {
    if (tenant === allTenants) {
      if (principal.tenants !== "*" || principal.role !== "admin")
        throw new PermissionDeniedError(
          `${method} across every tenant (an empty tenant) needs an admin of every tenant; ${principal.name} is not`,
        );
    } else if (!tenantAllowed(principal, tenant)) {
      throw new PermissionDeniedError(`${principal.name} may not touch tenant ${JSON.stringify(tenant)}`);
    }
  }
}

export function tenantAllowed(principal: Principal, tenant: string): boolean {
  return principal.tenants === "*" || principal.tenants.includes(tenant);
}
