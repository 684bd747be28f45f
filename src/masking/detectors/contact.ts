/** EMAIL_ADDRESS and PHONE_NUMBER. */
import type { Detector } from '../types.js';
import { anchoredRegex, forEachAnchoredMatch } from './regex-scan.js';

// Tried at each '@'; the local part (a whole token of at most 64 chars) is captured by a
// look-behind. Domain labels are separated by a mandatory '.', so the repeated group and the TLD
// trade at most one label back.
const EMAIL = anchoredRegex(
  /@(?<=(?<![\w.%+-])([\w.%+-]{1,64})@)[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}(?![\w-]|\.[A-Za-z0-9])/y,
  'atSigns',
);

// North American numbers need a visible shape — parentheses or separators between 3-3-4 groups —
// because a bare 10-digit run is far more often an id. The regex matches the "555-0100" tail
// and captures the area code part, token start included, in a bounded look-behind.
const NANP = anchoredRegex(
  /[2-9]\d\d[ .-]\d\d\d\d(?![\w-]|\.\d)(?<=(?<![\w+.-])((?:\+?1[ .-]?)?(?:\([2-9]\d\d\) ?|[2-9]\d\d[ .-]))[2-9]\d\d[ .-]\d\d\d\d)/y,
  'phoneExchanges',
);
// Brazilian numbers written the national way: a two-digit area code in parentheses, then a
// landline (2-5 and seven digits) or mobile (9 and eight) number split before its last four
// digits: "(11) 3355-7821", "(21) 98877-1122".
const BRAZIL = anchoredRegex(/\((?<!\w\()[1-9][1-9]\) ?(?:9\d{4}|[2-5]\d{3})[ -]\d{4}(?![\w-]|\.\d)/y, 'areaCodesInParentheses');
// International numbers need a leading '+'. Each `(?:[ .-]?\d)` step consumes exactly one digit,
// so the repetition has a single parse.
const INTERNATIONAL = anchoredRegex(/\+(?<![\w+]\+)[1-9]\d{0,2}(?:[ .-]?\d){6,13}(?![\w-]|\.\d)/y, 'plusSigns');

export const contactDetector: Detector = {
  entityTypes: ['EMAIL_ADDRESS', 'PHONE_NUMBER'],
  find(text, emit, wanted) {
    if (wanted.has('EMAIL_ADDRESS')) {
      forEachAnchoredMatch(EMAIL, text, (m) => emit(m.index - (m[1] ?? '').length, m.index + m[0].length, 'EMAIL_ADDRESS'));
    }
    if (!wanted.has('PHONE_NUMBER')) return;
    forEachAnchoredMatch(NANP, text, (m) => emit(m.index - (m[1] ?? '').length, m.index + m[0].length, 'PHONE_NUMBER'));
    forEachAnchoredMatch(BRAZIL, text, (m) => emit(m.index, m.index + m[0].length, 'PHONE_NUMBER'));
    forEachAnchoredMatch(INTERNATIONAL, text, (m) => {
      const digits = m[0].replace(/\D/g, '').length;
      if (digits >= 8 && digits <= 15) emit(m.index, m.index + m[0].length, 'PHONE_NUMBER');
    });
  },
};
