/**
 * Who is calling. Every way of logging in (API keys now; local and OIDC logins later)
 * produces one of these, and everything past authentication reads only this.
 */
export interface Identity {
  userId: string;
  email: string;
  name: string;
  groups: string[];
}

export const ADMIN_GROUP = 'admin';
/** Reads everything, runs nothing. */
export const AUDITOR_GROUP = 'auditor';

export function isAuditor(identity: Identity): boolean {
  return identity.groups.includes(AUDITOR_GROUP);
}

export function isAdmin(identity: Identity): boolean {
  return identity.groups.includes(ADMIN_GROUP);
}
