/**
 * Keccak-256 (the pre-standard padding used by Ethereum, which node:crypto does not offer: its
 * `sha3-256` pads differently). Only used to verify EIP-55 checksums of mixed-case addresses, so
 * clarity beats speed. State is 25 lanes of 64 bits held as BigInt.
 */
const MASK = (1n << 64n) - 1n;
const ROUND_CONSTANTS = [
  0x0000000000000001n, 0x0000000000008082n, 0x800000000000808an, 0x8000000080008000n,
  0x000000000000808bn, 0x0000000080000001n, 0x8000000080008081n, 0x8000000000008009n,
  0x000000000000008an, 0x0000000000000088n, 0x0000000080008009n, 0x000000008000000an,
  0x000000008000808bn, 0x800000000000008bn, 0x8000000000008089n, 0x8000000000008003n,
  0x8000000000008002n, 0x8000000000000080n, 0x000000000000800an, 0x800000008000000an,
  0x8000000080008081n, 0x8000000000008080n, 0x0000000080000001n, 0x8000000080008008n,
];
// Rotation offsets indexed by x + 5 * y.
const ROTATIONS = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14];
const RATE_BYTES = 136;

const rotl = (value: bigint, shift: number): bigint =>
  shift === 0 ? value : ((value << BigInt(shift)) | (value >> BigInt(64 - shift))) & MASK;

function permute(state: bigint[]): void {
  const lane = (i: number): bigint => state[i] ?? 0n;
  for (const roundConstant of ROUND_CONSTANTS) {
    const parity = [0, 1, 2, 3, 4].map((x) => lane(x) ^ lane(x + 5) ^ lane(x + 10) ^ lane(x + 15) ^ lane(x + 20));
    for (let x = 0; x < 5; x++) {
      const d = (parity[(x + 4) % 5] ?? 0n) ^ rotl(parity[(x + 1) % 5] ?? 0n, 1);
      for (let y = 0; y < 25; y += 5) state[x + y] = lane(x + y) ^ d;
    }
    const moved = new Array<bigint>(25).fill(0n);
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) moved[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(lane(x + 5 * y), ROTATIONS[x + 5 * y] ?? 0);
    }
    for (let y = 0; y < 25; y += 5) {
      for (let x = 0; x < 5; x++) {
        const a = moved[y + x] ?? 0n;
        const b = moved[y + ((x + 1) % 5)] ?? 0n;
        const c = moved[y + ((x + 2) % 5)] ?? 0n;
        state[y + x] = a ^ (~b & MASK & c);
      }
    }
    state[0] = lane(0) ^ roundConstant;
  }
}

export function keccak256(input: Uint8Array): Uint8Array {
  const padded = new Uint8Array(Math.ceil((input.length + 1) / RATE_BYTES) * RATE_BYTES);
  padded.set(input);
  padded[input.length] = 0x01;
  padded[padded.length - 1] = (padded[padded.length - 1] ?? 0) | 0x80;
  const state = new Array<bigint>(25).fill(0n);
  for (let offset = 0; offset < padded.length; offset += RATE_BYTES) {
    for (let i = 0; i < RATE_BYTES / 8; i++) {
      let word = 0n;
      for (let b = 7; b >= 0; b--) word = (word << 8n) | BigInt(padded[offset + i * 8 + b] ?? 0);
      state[i] = (state[i] ?? 0n) ^ word;
    }
    permute(state);
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number(((state[i >> 3] ?? 0n) >> BigInt(8 * (i & 7))) & 0xffn);
  return out;
}
