/** Built-in detectors, in priority order: on a tie (same start and length) the earlier one wins. */
import type { ColumnRule, Detector } from '../types.js';
import { contactDetector } from './contact.js';
import { cryptoWalletDetector } from './crypto-wallets.js';
import { DATE_OF_BIRTH_COLUMN, dateOfBirthDetector } from './date-of-birth.js';
import { financialDetector } from './financial.js';
import { hardwareDetector } from './hardware.js';
import { ipAddressDetector } from './ip-addresses.js';
import { NATIONAL_ID_COLUMNS, nationalIdDetector } from './national-ids.js';
import { AWS_SECRET_COLUMN, secretsDetector } from './secrets.js';
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

/** Labelled values that may also sit in a table column under their label (../columns.ts). */
export const BUILT_IN_COLUMN_RULES: readonly ColumnRule[] = [DATE_OF_BIRTH_COLUMN, ...NATIONAL_ID_COLUMNS, AWS_SECRET_COLUMN];

export { createCustomDetector } from './custom.js';
