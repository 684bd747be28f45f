/** CRYPTO: Bitcoin legacy (base58check), Bitcoin segwit (bech32/bech32m) and Ethereum addresses. */
import type { Detector } from '../types.js';
import { base58CheckValid, bech32Valid, eip55Valid } from '../checksums.js';
import { forEachMatch } from './regex-scan.js';

// One regex per address family, each starting with its literal prefix so V8 can skip ahead
// quickly; the token-start look-behind follows the prefix. Fixed alphabets, bounded lengths.
const LEGACY = /[13](?<![\w-].)[1-9A-HJ-NP-Za-km-z]{25,34}(?![\w-])/g;
const SEGWIT = /(?:bc|BC|tb|TB)1(?<=(?<![\w-])...)[02-9ac-hj-np-zAC-HJ-NP-Z]{11,71}(?![\w-])/g;
const ETHEREUM = /0x(?<=(?<![\w-])..)[0-9a-fA-F]{40}(?![\w-])/g;

/** All-lower or all-upper addresses carry no checksum; mixed case must satisfy EIP-55. */
function ethereumValid(address: string): boolean {
  const hex = address.slice(2);
  return hex === hex.toLowerCase() || hex === hex.toUpperCase() || eip55Valid(hex);
}

const FAMILIES: [RegExp, (address: string) => boolean][] = [
  [LEGACY, base58CheckValid],
  [SEGWIT, bech32Valid],
  [ETHEREUM, ethereumValid],
];

export const cryptoWalletDetector: Detector = {
  entityTypes: ['CRYPTO'],
  find(text, emit) {
    for (const [regex, valid] of FAMILIES) {
      forEachMatch(regex, text, (m) => {
        if (valid(m[0])) emit(m.index, m.index + m[0].length, 'CRYPTO');
      });
    }
  },
};
