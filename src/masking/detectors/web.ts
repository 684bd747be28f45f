/**
 * URL, STORAGE_SIGNED_URL (a URL carrying an S3/GCS/Azure signature, reported instead of URL)
 * and HTTP_COOKIE (the value of a `Cookie:` / `Set-Cookie:` header or key). Only URLs with a
 * scheme or a `www.` prefix count: bare `name.tld` is far more often a file name.
 */
import type { Detector } from '../types.js';
import { anchoredRegex, forEachAnchoredMatch } from './regex-scan.js';

// Starts at '://' or 'www.'; a look-behind captures the scheme, token start included (a '+' may
// come before it: a user agent's "+http://…", a compound scheme's "git+https://…"). Then one
// bounded run of URL chars: stops at blanks, quotes, brackets and ',' (CSV). Linear.
const URL_CANDIDATE = anchoredRegex(
  /(?::\/\/(?<=(?<![\w.-])(https?|ftps?|wss?|s3|gs|postgres(?:ql)?|mysql|mongodb(?:\+srv)?|redis|amqps?):\/\/)|www\.(?<![\w+.-]www\.))[^\s"'<>`,|\\]{3,2048}/y,
  'urlStarts',
);
const TRAILING_PUNCTUATION = /[.;:!?*]+$/;
const SIGNATURE_PARAMETER = /[?&](?:x-amz-signature|x-goog-signature|signature|sig)=/i;

/** Drops trailing sentence punctuation and a closing bracket that has no opening one in the URL. */
function trimUrl(url: string): string {
  let trimmed = url.replace(TRAILING_PUNCTUATION, '');
  for (const [open, close] of [['(', ')'], ['[', ']'], ['{', '}']] as const) {
    while (trimmed.endsWith(close) && trimmed.split(open).length < trimmed.split(close).length) {
      trimmed = trimmed.slice(0, -1).replace(TRAILING_PUNCTUATION, '');
    }
  }
  return trimmed;
}

// A header (`Cookie: …`, also inside an escaped dump such as `…\r\nCookie: …`) or a key
// (`"cookie":"…"`, `cookie="…"`). The value runs to the end of the line, a closing quote or a
// backslash (none of which a cookie may contain); blanks around the separator are bounded.
const COOKIE = anchoredRegex(
  /(?<![\w-](?<!\\[nrt]))(?:set-)?cookie["']?[ \t]{0,3}([:=])[ \t]{0,3}["']?([^\r\n"'\\]{1,4096})/iy,
  'cookieLabels',
);

export const webDetector: Detector = {
  entityTypes: ['URL', 'STORAGE_SIGNED_URL', 'HTTP_COOKIE'],
  find(text, emit, wanted) {
    if (wanted.has('URL') || wanted.has('STORAGE_SIGNED_URL')) {
      forEachAnchoredMatch(URL_CANDIDATE, text, (m) => {
        const url = trimUrl((m[1] ?? '') + m[0]);
        const start = m.index - (m[1] ?? '').length;
        const signed = wanted.has('STORAGE_SIGNED_URL') && SIGNATURE_PARAMETER.test(url);
        if (signed) emit(start, start + url.length, 'STORAGE_SIGNED_URL');
        else if (wanted.has('URL')) emit(start, start + url.length, 'URL');
      });
    }
    if (wanted.has('HTTP_COOKIE')) {
      forEachAnchoredMatch(COOKIE, text, (m) => {
        const value = (m[2] ?? '').trimEnd();
        const start = m.index + m[0].length - (m[2] ?? '').length;
        // After `cookie=` only name=value pairs count: `cookie=-` or `cookie=true` is a flag.
        if (value.length > 0 && (m[1] === ':' || value.includes('='))) emit(start, start + value.length, 'HTTP_COOKIE');
      });
    }
  },
};
