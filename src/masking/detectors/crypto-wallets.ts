/** CRYPTO: Bitcoin legacy (base58check), Bitcoin segwit (bech32/bech32m) and Ethereum addresses. */
import type { Detector } from '../types.js';
import { base58CheckValid, bech32Valid, eip55Valid } from '../checksums.js';
import { anchoredRegex, forEachAnchoredMatch, type AnchoredRegex } from './regex-scan.js';

// One regex per address family, each a whole token (token-start look-behind after the prefix,
// token-end look-ahead). Fixed alphabets, bounded lengths.
const LEGACY = anchoredRegex(/[13](?<![\w-].)[1-9A-HJ-NP-Za-km-z]{25,34}(?![\w-])/y, 'walletTokens');
const SEGWIT = anchoredRegex(/(?:bc|BC|tb|TB)1(?<=(?<![\w-])...)[02-9ac-hj-np-zAC-HJ-NP-Z]{11,71}(?![\w-])/y, 'walletTokens');
const ETHEREUM = anchoredRegex(/0x(?<=(?<![\w-])..)[0-9a-fA-F]{40}(?![\w-])/y, 'walletTokens');

/** All-lower or all-upper addresses carry no checksum; mixed case must satisfy EIP-55. */
function ethereumValid(address: string): boolean {
  // One scan, no string copies, no data-dependent branches (output can be nothing but addresses):
  // in hex digits, bit 0x40 marks a letter and 0x20 a lower-case one.
  let lower = 0;
  let upper = 0;
  for (let i = 2; i < address.length; i++) {
    const code = address.charCodeAt(i);
    lower |= (code >> 6) & (code >> 5);
    upper |= (code >> 6) & ~(code >> 5);
  }
  return (lower & upper & 1) === 0 || eip55Valid(address, 2);
}

const FAMILIES: [AnchoredRegex, (address: string) => boolean][] = [
  [LEGACY, base58CheckValid],
  [SEGWIT, bech32Valid],
  [ETHEREUM, ethereumValid],
];

export const cryptoWalletDetector: Detector = {
  entityTypes: ['CRYPTO'],
  find(text, emit) {
    for (const [regex, valid] of FAMILIES) {
      forEachAnchoredMatch(regex, text, (m) => {
        if (valid(m[0])) emit(m.index, m.index + m[0].length, 'CRYPTO');
      });
    }
  },
};
