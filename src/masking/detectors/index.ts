/** Built-in detectors, in priority order: on a tie (same start and length) the earlier one wins. */
import type { Detector } from '../types.js';
import { contactDetector } from './contact.js';
import { cryptoWalletDetector } from './crypto-wallets.js';
import { dateOfBirthDetector } from './date-of-birth.js';
import { financialDetector } from './financial.js';
import { hardwareDetector } from './hardware.js';
import { ipAddressDetector } from './ip-addresses.js';
import { nationalIdDetector } from './national-ids.js';
import { secretsDetector } from './secrets.js';
import { webDetector } from './web.js';

export const BUILT_IN_DETECTORS: readonly Detector[] = [
  secretsDetector,
  webDetector,
  financialDetector,
  nationalIdDetector,
  hardwareDetector,
  cryptoWalletDetector,
  contactDetector,
  ipAddressDetector,
  dateOfBirthDetector,
];

export { createCustomDetector } from './custom.js';
