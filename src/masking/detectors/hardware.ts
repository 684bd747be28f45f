/** VEHICLE_IDENTIFICATION_NUMBER (ISO 3779 check digit) and IMEI_HARDWARE_ID (Luhn). */
import type { Detector } from '../types.js';
import { luhnValid, vinValid } from '../checksums.js';
import { forEachMatch } from './regex-scan.js';

// 17 chars from the VIN alphabet (no I, O, Q) ending in four digits (the serial part is numeric
// for every manufacturer). The regex matches those four digits — explicit atoms V8 scans for
// quickly — and checks the whole token with a fixed-length look-behind.
const VIN_TAIL = /\d\d\d\d(?![\w-])(?<=(?<![\w-])[A-HJ-NPR-Z0-9]{17})/g;
const HAS_LETTER = /[A-Z]/;

// 15 digits, bare or grouped 2-6-6-1 with one repeated separator. Explicit leading atoms let V8
// scan quickly; the token-start look-behind follows them.
const IMEI_CANDIDATE = /\d\d([- ]?)\d\d\d\d\d\d(?<=(?<![\w-])\d\d[- ]?\d{6})\1\d{6}\1\d(?![\w-])/g;

export const hardwareDetector: Detector = {
  entityTypes: ['VEHICLE_IDENTIFICATION_NUMBER', 'IMEI_HARDWARE_ID'],
  find(text, emit, wanted) {
    if (wanted.has('VEHICLE_IDENTIFICATION_NUMBER')) {
      forEachMatch(VIN_TAIL, text, (m) => {
        const start = m.index + 4 - 17;
        const vin = text.slice(start, start + 17);
        if (HAS_LETTER.test(vin) && vinValid(vin)) emit(start, start + 17, 'VEHICLE_IDENTIFICATION_NUMBER');
      });
    }
    if (wanted.has('IMEI_HARDWARE_ID')) {
      forEachMatch(IMEI_CANDIDATE, text, (m) => {
        if (luhnValid(m[0].replace(/\D/g, ''))) emit(m.index, m.index + m[0].length, 'IMEI_HARDWARE_ID');
      });
    }
  },
};
