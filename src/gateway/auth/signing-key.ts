import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { ServerConfigurationError } from '../../errors.js';
import type { Sealer } from '../secrets/sealer.js';
import type { SigningKeyStore } from './signing-key-store.js';

/** The Ed25519 key pair that signs and verifies login tokens. */
export interface TokenSigningKey {
  publicKey: KeyObject;
  /** Opened on first use; throws ServerConfigurationError if it cannot be. */
  privateKey(): KeyObject;
}

/** The store's signing key, generated and stored on first start. */
export async function loadOrCreateSigningKey(deps: {
  store: Pick<SigningKeyStore, 'find' | 'insertIfAbsent'>;
  sealer: Sealer;
}): Promise<TokenSigningKey> {
  const { store, sealer } = deps;
  if (!(await store.find())) {
    const pair = generateKeyPairSync('ed25519');
    await store.insertIfAbsent({
      id: randomUUID(),
      publicKey: pair.publicKey.export({ type: 'spki', format: 'der' }),
      privateKeySealed: sealer.seal(pair.privateKey.export({ type: 'pkcs8', format: 'der' })),
    });
  }
  const record = await store.find();
  if (!record) throw new Error('the token signing key was not stored');

  // Verifying needs only the public key, so a gateway with the wrong secret key still accepts
  // tokens; it cannot issue them.
  let privateKey: KeyObject | undefined;
  return {
    publicKey: createPublicKey({ key: record.publicKey, format: 'der', type: 'spki' }),
    privateKey() {
      if (!privateKey) {
        try {
          privateKey = createPrivateKey({ key: sealer.open(record.privateKeySealed), format: 'der', type: 'pkcs8' });
        } catch {
          throw new ServerConfigurationError(
            'the token signing key cannot be decrypted: GATEHOUSE_SECRET_KEY is not the key it was stored with',
          );
        }
      }
      return privateKey;
    },
  };
}
