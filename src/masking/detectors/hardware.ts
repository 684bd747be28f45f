/** VEHICLE_IDENTIFICATION_NUMBER (ISO 3779 check digit) and IMEI_HARDWARE_ID (Luhn). */
import type { Detector } from '../types.js';
import { luhnValid, vinValid } from '../checksums.js';
import { anchoredRegex, forEachAnchoredMatch } from './regex-scan.js';

// 17 chars from the VIN alphabet (no I, O, Q) ending in four digits (the serial part is numeric
// for every manufacturer). The regex matches those four digits and checks the whole token with a
// fixed-length look-behind.
const VIN_TAIL = anchoredRegex(/\d\d\d\d(?![\w-])(?<=(?<![\w-])[A-HJ-NPR-Z0-9]{17})/y, 'vinTails');
const HAS_LETTER = /[A-Z]/;

// 15 digits at a token start, bare or grouped 2-6-6-1 with one repeated separator.
const IMEI_CANDIDATE = anchoredRegex(/\d\d([- ]?)\d\d\d\d\d\d(?<=(?<![\w-])\d\d[- ]?\d{6})\1\d{6}\1\d(?![\w-])/y, 'imeiStarts');

export const hardwareDetector: Detector = {
  entityTypes: ['VEHICLE_IDENTIFICATION_NUMBER', 'IMEI_HARDWARE_ID'],
  find(text, emit, wanted) {
    if (wanted.has('VEHICLE_IDENTIFICATION_NUMBER')) {
      forEachAnchoredMatch(VIN_TAIL, text, (m) => {
        const start = m.index + 4 - 17;
        const vin = text.slice(start, start + 17);
        if (HAS_LETTER.test(vin) && vinValid(vin)) emit(start, start + 17, 'VEHICLE_IDENTIFICATION_NUMBER');
      });
    }
    if (wanted.has('IMEI_HARDWARE_ID')) {
      forEachAnchoredMatch(IMEI_CANDIDATE, text, (m) => {
        if (luhnValid(m[0].replace(/\D/g, ''))) emit(m.index, m.index + m[0].length, 'IMEI_HARDWARE_ID');
      });
    }
  },
};
