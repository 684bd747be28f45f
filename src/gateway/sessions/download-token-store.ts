import type { Db } from '../store/db.js';
import type { DownloadOptions } from './session-render.js';

export type RedeemResult = 'unknown' | 'used' | 'expired' | { options: DownloadOptions; userId: string };

/** One-time download tokens, kept as SHA-256 hashes so a database read does not leak them. */
export function createDownloadTokenStore(db: Db) {
  return {
    async insert(token: { tokenHash: string; sessionId: string; userId: string; options: DownloadOptions; expiresAt: Date }): Promise<void> {
      await db.deleteFrom('session_download_tokens').where('expires_at', '<', new Date(Date.now() - 24 * 3600 * 1000)).execute();
      await db
        .insertInto('session_download_tokens')
        .values({
          token_hash: token.tokenHash,
          session_id: token.sessionId,
          user_id: token.userId,
          options: JSON.stringify(token.options),
          expires_at: token.expiresAt,
        })
        .execute();
    },

    /** Marks the token used, atomically, and says what it was good for. */
    async consume(tokenHash: string, sessionId: string): Promise<RedeemResult> {
      const redeemed = await db
        .updateTable('session_download_tokens')
        .set({ used_at: new Date() })
        .where('token_hash', '=', tokenHash)
        .where('session_id', '=', sessionId)
        .where('used_at', 'is', null)
        .returning(['options', 'user_id', 'expires_at'])
        .executeTakeFirst();
      if (redeemed) {
        if (redeemed.expires_at.getTime() < Date.now()) return 'expired';
        return { options: redeemed.options as unknown as DownloadOptions, userId: redeemed.user_id };
      }
      const known = await db
        .selectFrom('session_download_tokens')
        .select('token_hash')
        .where('token_hash', '=', tokenHash)
        .where('session_id', '=', sessionId)
        .executeTakeFirst();
      return known ? 'used' : 'unknown';
    },
  };
}

export type DownloadTokenStore = ReturnType<typeof createDownloadTokenStore>;
