/**
 * Keccak-256 (the pre-standard padding used by Ethereum, which node:crypto does not offer: its
 * `sha3-256` pads differently). It verifies the EIP-55 checksum of every mixed-case `0x` address
 * in masked output, and output can carry millions of them, so it runs on 32-bit integers only.
 *
 * keccak-f[1600]: 25 lanes of 64 bits, lane (x, y) at index x + 5y, each held as two 32-bit
 * halves in an `Int32Array` (low half at 2i, high half at 2i + 1; Int32 rather than Uint32 so the
 * values stay in V8's int32 representation). Rate 136 bytes (capacity 512 bits), original Keccak
 * padding 0x01 … 0x80 (not SHA-3's 0x06). The state is allocated once and reused: callers are
 * synchronous, so calls never interleave.
 *
 * The round is unrolled from the standard tables:
 *  - rho rotation offsets, by lane x + 5y:
 *      0  1 62 28 27 | 36 44  6 55 20 | 3 10 43 25 39 | 41 45 15 21  8 | 18  2 61 56 14
 *    rotating (hi, lo) left by r < 32 gives (hi << r | lo >>> 32 - r, lo << r | hi >>> 32 - r);
 *    by r > 32, the same with the halves swapped and r - 32;
 *  - pi: lane (x, y) moves to (y, 2x + 3y mod 5).
 * Tests compare it with the reference vectors and an independent BigInt implementation.
 */

/** Round constants of the iota step, as (high, low) pairs. */
const ROUND_CONSTANTS = new Int32Array([
  0x00000000, 0x00000001, 0x00000000, 0x00008082, 0x80000000, 0x0000808a, 0x80000000, 0x80008000,
  0x00000000, 0x0000808b, 0x00000000, 0x80000001, 0x80000000, 0x80008081, 0x80000000, 0x00008009,
  0x00000000, 0x0000008a, 0x00000000, 0x00000088, 0x00000000, 0x80008009, 0x00000000, 0x8000000a,
  0x00000000, 0x8000808b, 0x80000000, 0x0000008b, 0x80000000, 0x00008089, 0x80000000, 0x00008003,
  0x80000000, 0x00008002, 0x80000000, 0x00000080, 0x00000000, 0x0000800a, 0x80000000, 0x8000000a,
  0x80000000, 0x80008081, 0x80000000, 0x00008080, 0x00000000, 0x80000001, 0x80000000, 0x80008008,
]);
const RATE_BYTES = 136;

const state = new Int32Array(50);

/** keccak-f[1600] on `state`: 24 rounds, each unrolled. */
function permute(): void {
  const s = state;
  for (let round = 0; round < 48; round += 2) {
    // Each word is read once per round into a local: V8 does not merge repeated typed-array reads.
    const a0 = s[0]!, a1 = s[1]!, a2 = s[2]!, a3 = s[3]!, a4 = s[4]!;
    const a5 = s[5]!, a6 = s[6]!, a7 = s[7]!, a8 = s[8]!, a9 = s[9]!;
    const a10 = s[10]!, a11 = s[11]!, a12 = s[12]!, a13 = s[13]!, a14 = s[14]!;
    const a15 = s[15]!, a16 = s[16]!, a17 = s[17]!, a18 = s[18]!, a19 = s[19]!;
    const a20 = s[20]!, a21 = s[21]!, a22 = s[22]!, a23 = s[23]!, a24 = s[24]!;
    const a25 = s[25]!, a26 = s[26]!, a27 = s[27]!, a28 = s[28]!, a29 = s[29]!;
    const a30 = s[30]!, a31 = s[31]!, a32 = s[32]!, a33 = s[33]!, a34 = s[34]!;
    const a35 = s[35]!, a36 = s[36]!, a37 = s[37]!, a38 = s[38]!, a39 = s[39]!;
    const a40 = s[40]!, a41 = s[41]!, a42 = s[42]!, a43 = s[43]!, a44 = s[44]!;
    const a45 = s[45]!, a46 = s[46]!, a47 = s[47]!, a48 = s[48]!, a49 = s[49]!;
    // Theta: column parities c<x>, then d<x> = c<x - 1> ^ rotl(c<x + 1>, 1).
    const c0Lo = a0 ^ a10 ^ a20 ^ a30 ^ a40;
    const c0Hi = a1 ^ a11 ^ a21 ^ a31 ^ a41;
    const c1Lo = a2 ^ a12 ^ a22 ^ a32 ^ a42;
    const c1Hi = a3 ^ a13 ^ a23 ^ a33 ^ a43;
    const c2Lo = a4 ^ a14 ^ a24 ^ a34 ^ a44;
    const c2Hi = a5 ^ a15 ^ a25 ^ a35 ^ a45;
    const c3Lo = a6 ^ a16 ^ a26 ^ a36 ^ a46;
    const c3Hi = a7 ^ a17 ^ a27 ^ a37 ^ a47;
    const c4Lo = a8 ^ a18 ^ a28 ^ a38 ^ a48;
    const c4Hi = a9 ^ a19 ^ a29 ^ a39 ^ a49;
    const d0Lo = c4Lo ^ ((c1Lo << 1) | (c1Hi >>> 31));
    const d0Hi = c4Hi ^ ((c1Hi << 1) | (c1Lo >>> 31));
    const d1Lo = c0Lo ^ ((c2Lo << 1) | (c2Hi >>> 31));
    const d1Hi = c0Hi ^ ((c2Hi << 1) | (c2Lo >>> 31));
    const d2Lo = c1Lo ^ ((c3Lo << 1) | (c3Hi >>> 31));
    const d2Hi = c1Hi ^ ((c3Hi << 1) | (c3Lo >>> 31));
    const d3Lo = c2Lo ^ ((c4Lo << 1) | (c4Hi >>> 31));
    const d3Hi = c2Hi ^ ((c4Hi << 1) | (c4Lo >>> 31));
    const d4Lo = c3Lo ^ ((c0Lo << 1) | (c0Hi >>> 31));
    const d4Hi = c3Hi ^ ((c0Hi << 1) | (c0Lo >>> 31));
    // Theta applied, then rho (lane (x, y) rotated left by its offset) and pi (moved to
    // (y, 2x + 3y mod 5)): b<target lane><Lo|Hi>.
    let lo: number;
    let hi: number;
    const b0Lo = a0 ^ d0Lo;
    const b0Hi = a1 ^ d0Hi;
    lo = a2 ^ d1Lo;
    hi = a3 ^ d1Hi;
    const b10Lo = (lo << 1) | (hi >>> 31);
    const b10Hi = (hi << 1) | (lo >>> 31);
    lo = a4 ^ d2Lo;
    hi = a5 ^ d2Hi;
    const b20Lo = (hi << 30) | (lo >>> 2);
    const b20Hi = (lo << 30) | (hi >>> 2);
    lo = a6 ^ d3Lo;
    hi = a7 ^ d3Hi;
    const b5Lo = (lo << 28) | (hi >>> 4);
    const b5Hi = (hi << 28) | (lo >>> 4);
    lo = a8 ^ d4Lo;
    hi = a9 ^ d4Hi;
    const b15Lo = (lo << 27) | (hi >>> 5);
    const b15Hi = (hi << 27) | (lo >>> 5);
    lo = a10 ^ d0Lo;
    hi = a11 ^ d0Hi;
    const b16Lo = (hi << 4) | (lo >>> 28);
    const b16Hi = (lo << 4) | (hi >>> 28);
    lo = a12 ^ d1Lo;
    hi = a13 ^ d1Hi;
    const b1Lo = (hi << 12) | (lo >>> 20);
    const b1Hi = (lo << 12) | (hi >>> 20);
    lo = a14 ^ d2Lo;
    hi = a15 ^ d2Hi;
    const b11Lo = (lo << 6) | (hi >>> 26);
    const b11Hi = (hi << 6) | (lo >>> 26);
    lo = a16 ^ d3Lo;
    hi = a17 ^ d3Hi;
    const b21Lo = (hi << 23) | (lo >>> 9);
    const b21Hi = (lo << 23) | (hi >>> 9);
    lo = a18 ^ d4Lo;
    hi = a19 ^ d4Hi;
    const b6Lo = (lo << 20) | (hi >>> 12);
    const b6Hi = (hi << 20) | (lo >>> 12);
    lo = a20 ^ d0Lo;
    hi = a21 ^ d0Hi;
    const b7Lo = (lo << 3) | (hi >>> 29);
    const b7Hi = (hi << 3) | (lo >>> 29);
    lo = a22 ^ d1Lo;
    hi = a23 ^ d1Hi;
    const b17Lo = (lo << 10) | (hi >>> 22);
    const b17Hi = (hi << 10) | (lo >>> 22);
    lo = a24 ^ d2Lo;
    hi = a25 ^ d2Hi;
    const b2Lo = (hi << 11) | (lo >>> 21);
    const b2Hi = (lo << 11) | (hi >>> 21);
    lo = a26 ^ d3Lo;
    hi = a27 ^ d3Hi;
    const b12Lo = (lo << 25) | (hi >>> 7);
    const b12Hi = (hi << 25) | (lo >>> 7);
    lo = a28 ^ d4Lo;
    hi = a29 ^ d4Hi;
    const b22Lo = (hi << 7) | (lo >>> 25);
    const b22Hi = (lo << 7) | (hi >>> 25);
    lo = a30 ^ d0Lo;
    hi = a31 ^ d0Hi;
    const b23Lo = (hi << 9) | (lo >>> 23);
    const b23Hi = (lo << 9) | (hi >>> 23);
    lo = a32 ^ d1Lo;
    hi = a33 ^ d1Hi;
    const b8Lo = (hi << 13) | (lo >>> 19);
    const b8Hi = (lo << 13) | (hi >>> 19);
    lo = a34 ^ d2Lo;
    hi = a35 ^ d2Hi;
    const b18Lo = (lo << 15) | (hi >>> 17);
    const b18Hi = (hi << 15) | (lo >>> 17);
    lo = a36 ^ d3Lo;
    hi = a37 ^ d3Hi;
    const b3Lo = (lo << 21) | (hi >>> 11);
    const b3Hi = (hi << 21) | (lo >>> 11);
    lo = a38 ^ d4Lo;
    hi = a39 ^ d4Hi;
    const b13Lo = (lo << 8) | (hi >>> 24);
    const b13Hi = (hi << 8) | (lo >>> 24);
    lo = a40 ^ d0Lo;
    hi = a41 ^ d0Hi;
    const b14Lo = (lo << 18) | (hi >>> 14);
    const b14Hi = (hi << 18) | (lo >>> 14);
    lo = a42 ^ d1Lo;
    hi = a43 ^ d1Hi;
    const b24Lo = (lo << 2) | (hi >>> 30);
    const b24Hi = (hi << 2) | (lo >>> 30);
    lo = a44 ^ d2Lo;
    hi = a45 ^ d2Hi;
    const b9Lo = (hi << 29) | (lo >>> 3);
    const b9Hi = (lo << 29) | (hi >>> 3);
    lo = a46 ^ d3Lo;
    hi = a47 ^ d3Hi;
    const b19Lo = (hi << 24) | (lo >>> 8);
    const b19Hi = (lo << 24) | (hi >>> 8);
    lo = a48 ^ d4Lo;
    hi = a49 ^ d4Hi;
    const b4Lo = (lo << 14) | (hi >>> 18);
    const b4Hi = (hi << 14) | (lo >>> 18);
    // Chi: lane (x, y) = b(x, y) ^ (~b(x + 1, y) & b(x + 2, y)); iota on lane 0.
    s[0] = b0Lo ^ (~b1Lo & b2Lo) ^ ROUND_CONSTANTS[round + 1]!;
    s[1] = b0Hi ^ (~b1Hi & b2Hi) ^ ROUND_CONSTANTS[round]!;
    s[2] = b1Lo ^ (~b2Lo & b3Lo);
    s[3] = b1Hi ^ (~b2Hi & b3Hi);
    s[4] = b2Lo ^ (~b3Lo & b4Lo);
    s[5] = b2Hi ^ (~b3Hi & b4Hi);
    s[6] = b3Lo ^ (~b4Lo & b0Lo);
    s[7] = b3Hi ^ (~b4Hi & b0Hi);
    s[8] = b4Lo ^ (~b0Lo & b1Lo);
    s[9] = b4Hi ^ (~b0Hi & b1Hi);
    s[10] = b5Lo ^ (~b6Lo & b7Lo);
    s[11] = b5Hi ^ (~b6Hi & b7Hi);
    s[12] = b6Lo ^ (~b7Lo & b8Lo);
    s[13] = b6Hi ^ (~b7Hi & b8Hi);
    s[14] = b7Lo ^ (~b8Lo & b9Lo);
    s[15] = b7Hi ^ (~b8Hi & b9Hi);
    s[16] = b8Lo ^ (~b9Lo & b5Lo);
    s[17] = b8Hi ^ (~b9Hi & b5Hi);
    s[18] = b9Lo ^ (~b5Lo & b6Lo);
    s[19] = b9Hi ^ (~b5Hi & b6Hi);
    s[20] = b10Lo ^ (~b11Lo & b12Lo);
    s[21] = b10Hi ^ (~b11Hi & b12Hi);
    s[22] = b11Lo ^ (~b12Lo & b13Lo);
    s[23] = b11Hi ^ (~b12Hi & b13Hi);
    s[24] = b12Lo ^ (~b13Lo & b14Lo);
    s[25] = b12Hi ^ (~b13Hi & b14Hi);
    s[26] = b13Lo ^ (~b14Lo & b10Lo);
    s[27] = b13Hi ^ (~b14Hi & b10Hi);
    s[28] = b14Lo ^ (~b10Lo & b11Lo);
    s[29] = b14Hi ^ (~b10Hi & b11Hi);
    s[30] = b15Lo ^ (~b16Lo & b17Lo);
    s[31] = b15Hi ^ (~b16Hi & b17Hi);
    s[32] = b16Lo ^ (~b17Lo & b18Lo);
    s[33] = b16Hi ^ (~b17Hi & b18Hi);
    s[34] = b17Lo ^ (~b18Lo & b19Lo);
    s[35] = b17Hi ^ (~b18Hi & b19Hi);
    s[36] = b18Lo ^ (~b19Lo & b15Lo);
    s[37] = b18Hi ^ (~b19Hi & b15Hi);
    s[38] = b19Lo ^ (~b15Lo & b16Lo);
    s[39] = b19Hi ^ (~b15Hi & b16Hi);
    s[40] = b20Lo ^ (~b21Lo & b22Lo);
    s[41] = b20Hi ^ (~b21Hi & b22Hi);
    s[42] = b21Lo ^ (~b22Lo & b23Lo);
    s[43] = b21Hi ^ (~b22Hi & b23Hi);
    s[44] = b22Lo ^ (~b23Lo & b24Lo);
    s[45] = b22Hi ^ (~b23Hi & b24Hi);
    s[46] = b23Lo ^ (~b24Lo & b20Lo);
    s[47] = b23Hi ^ (~b24Hi & b20Hi);
    s[48] = b24Lo ^ (~b20Lo & b21Lo);
    s[49] = b24Hi ^ (~b20Hi & b21Hi);
  }
}

const readWord = (bytes: Uint8Array, i: number): number =>
  bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);

/** Writes keccak256(`input`) into `out` (at least 32 bytes) and returns `out`. Allocates nothing. */
export function keccak256Into(input: Uint8Array, out: Uint8Array): Uint8Array {
  const length = input.length;
  state.fill(0);
  let i = 0;
  // Whole 136-byte blocks (lanes are little-endian)...
  for (; length - i >= RATE_BYTES; permute()) {
    for (let w = 0; w < RATE_BYTES / 4; w++, i += 4) state[w] = state[w]! ^ readWord(input, i);
  }
  // ...then the rest, padded: 0x01 after the last byte, 0x80 in the last byte of the block.
  let w = 0;
  for (; length - i >= 4; w++, i += 4) state[w] = state[w]! ^ readWord(input, i);
  let partial = 0x01 << (8 * (length - i));
  for (let k = 0; i + k < length; k++) partial |= input[i + k]! << (8 * k);
  state[w] = state[w]! ^ partial;
  state[RATE_BYTES / 4 - 1] = state[RATE_BYTES / 4 - 1]! ^ (0x80 << 24);
  permute();
  // The digest is the first 32 bytes of the state.
  for (let j = 0; j < 8; j++) {
    const word = state[j]!;
    out[4 * j] = word;
    out[4 * j + 1] = word >>> 8;
    out[4 * j + 2] = word >>> 16;
    out[4 * j + 3] = word >>> 24;
  }
  return out;
}

export function keccak256(input: Uint8Array): Uint8Array {
  return keccak256Into(input, new Uint8Array(32));
}
