import type { Db } from '../store/db.js';

/** A login started at GET /api/login, waiting for its callback. */
export interface PendingLogin {
  stateHash: string;
  codeVerifier: string;
  nonce: string;
  redirectUrl: string;
  expiresAt: Date;
}

export function createOidcLoginStore(db: Db) {
  return {
    /** Stores a login, dropping those that expired meanwhile so abandoned logins do not pile up. */
    async insert(login: PendingLogin): Promise<void> {
      await db.deleteFrom('oidc_logins').where('expires_at', '<', new Date()).execute();
      await db
        .insertInto('oidc_logins')
        .values({
          state_hash: login.stateHash,
          code_verifier: login.codeVerifier,
          nonce: login.nonce,
          redirect_url: login.redirectUrl,
          expires_at: login.expiresAt,
        })
        .execute();
    },

    /** Logins waiting for their callback and not expired. */
    async countPending(): Promise<number> {
      const row = await db
        .selectFrom('oidc_logins')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('expires_at', '>=', new Date())
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Removes the login and answers it: each state completes at most one login, even on several gateways. */
    async take(stateHash: string): Promise<PendingLogin | undefined> {
      const row = await db
        .deleteFrom('oidc_logins')
        .where('state_hash', '=', stateHash)
        .returning(['state_hash', 'code_verifier', 'nonce', 'redirect_url', 'expires_at'])
        .executeTakeFirst();
      return (
        row && {
          stateHash: row.state_hash,
          codeVerifier: row.code_verifier,
          nonce: row.nonce,
          redirectUrl: row.redirect_url,
          expiresAt: row.expires_at,
        }
      );
    },
  };
}

export type OidcLoginStore = ReturnType<typeof createOidcLoginStore>;
