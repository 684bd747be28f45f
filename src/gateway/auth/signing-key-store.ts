import type { Db } from '../store/db.js';
import { toBuffer } from '../store/db.js';

export interface SigningKeyRecord {
  id: string;
  /** SubjectPublicKeyInfo, DER. */
  publicKey: Buffer;
  /** PKCS#8 DER, sealed. */
  privateKeySealed: Buffer;
}

export function createSigningKeyStore(db: Db) {
  return {
    async find(): Promise<SigningKeyRecord | undefined> {
      const row = await db.selectFrom('token_signing_keys').select(['id', 'public_key', 'private_key_sealed']).executeTakeFirst();
      return row && { id: row.id, publicKey: toBuffer(row.public_key), privateKeySealed: toBuffer(row.private_key_sealed) };
    },

    /** Stores the key unless one is stored already (another gateway may have stored its own first). */
    async insertIfAbsent(record: SigningKeyRecord): Promise<void> {
      await db
        .insertInto('token_signing_keys')
        .values({ id: record.id, public_key: record.publicKey, private_key_sealed: record.privateKeySealed })
        .onConflict((oc) => oc.column('singleton').doNothing())
        .execute();
    },
  };
}

export type SigningKeyStore = ReturnType<typeof createSigningKeyStore>;
