import { ADMIN_GROUP, AUDITOR_GROUP, type Identity } from '../auth/identity.js';

/**
 * Who may call a route. Every route declares one, next to the route (`config: { role }`), and
 * the app checks it in one place; a route without one is refused at start-up.
 *
 * - `public`: no credentials (health, OpenAPI document, single-use download links, login).
 * - `admin`: admins only.
 * - `adminAndAuditor`: admins and auditors (configuration reads that may reveal setup).
 * - `readOnly`: everyone authenticated: admins, auditors and standard users.
 * - `standard`: admins and standard users; auditors read everything and run nothing.
 */
export type RouteRole = 'public' | 'admin' | 'adminAndAuditor' | 'readOnly' | 'standard';

export const ROUTE_ROLES: readonly RouteRole[] = ['public', 'admin', 'adminAndAuditor', 'readOnly', 'standard'];

declare module 'fastify' {
  interface FastifyContextConfig {
    role?: RouteRole;
  }
}

/** Admin membership wins; auditor membership then dominates any other group. */
export function roleAllows(role: RouteRole, identity: Identity): boolean {
  if (role === 'public' || identity.groups.includes(ADMIN_GROUP)) return true;
  if (identity.groups.includes(AUDITOR_GROUP)) return role === 'adminAndAuditor' || role === 'readOnly';
  return role === 'readOnly' || role === 'standard';
}
