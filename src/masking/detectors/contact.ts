/** EMAIL_ADDRESS and PHONE_NUMBER. */
import type { Detector } from '../types.js';
import { forEachMatch } from './regex-scan.js';

// Starts with the literal '@' so V8 skips ahead with a fast scan; the local part (a whole token of
// at most 64 chars) is captured by a look-behind evaluated only at an '@'. Domain labels are
// separated by a mandatory '.', so the repeated group and the TLD trade at most one label back.
const EMAIL = /@(?<=(?<![\w.%+-])([\w.%+-]{1,64})@)[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}(?![\w-]|\.[A-Za-z0-9])/g;

// North American numbers need a visible shape — parentheses or separators between 3-3-4 groups —
// because a bare 10-digit run is far more often an id. The regex matches the "555-0100" tail
// (explicit atoms V8 scans for quickly) and captures the area code part, token start included,
// in a bounded look-behind.
const NANP =
  /[2-9]\d\d[ .-]\d\d\d\d(?![\w-]|\.\d)(?<=(?<![\w+.-])((?:\+?1[ .-]?)?(?:\([2-9]\d\d\) ?|[2-9]\d\d[ .-]))[2-9]\d\d[ .-]\d\d\d\d)/g;
// International numbers need a leading '+'. Each `(?:[ .-]?\d)` step consumes exactly one digit,
// so the repetition has a single parse.
const INTERNATIONAL = /\+(?<![\w+]\+)[1-9]\d{0,2}(?:[ .-]?\d){6,13}(?![\w-]|\.\d)/g;

export const contactDetector: Detector = {
  entityTypes: ['EMAIL_ADDRESS', 'PHONE_NUMBER'],
  find(text, emit, wanted) {
    if (wanted.has('EMAIL_ADDRESS') && text.includes('@')) {
      forEachMatch(EMAIL, text, (m) => emit(m.index - (m[1] ?? '').length, m.index + m[0].length, 'EMAIL_ADDRESS'));
    }
    if (!wanted.has('PHONE_NUMBER')) return;
    forEachMatch(NANP, text, (m) => emit(m.index - (m[1] ?? '').length, m.index + m[0].length, 'PHONE_NUMBER'));
    if (!text.includes('+')) return;
    forEachMatch(INTERNATIONAL, text, (m) => {
      const digits = m[0].replace(/\D/g, '').length;
      if (digits >= 8 && digits <= 15) emit(m.index, m.index + m[0].length, 'PHONE_NUMBER');
    });
  },
};
