/** IP_ADDRESS: IPv4 (dotted quad, not a version string) and IPv6 (validated in code). */
import type { Detector } from '../types.js';
import { candidatesOf } from './candidates.js';
import { anchoredRegex, forEachAnchoredMatch } from './regex-scan.js';

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
// Neither preceded nor followed by more dotted numbers, so OIDs such as 1.3.6.1.4.1 never match.
const IPV4 = anchoredRegex(new RegExp(`(?<![\\w.])(?:${OCTET}\\.){3}${OCTET}(?![\\w]|\\.\\d)`, 'y'), 'dottedQuads');
const IPV4_EXACT = new RegExp(`^(?:${OCTET}\\.){3}${OCTET}$`);
// "version 1.2.3.4", "\"version\": \"1.2.3.4\"", "release=1.2.3.4", "build 1.2.3.4".
const VERSION_LABEL = /(?:version|ver|release|build|firmware|fw)["']?[ \t]{0,3}[:=]?[ \t]{0,3}["']?$/i;
// The browser tokens of a user agent: "Chrome/124.0.0.0" (reduced user agents end in .0.0.0).
const BROWSER_TOKEN = /(?<![\w-])(?:chrome|chromium|crios|edg[a-z]{0,3}|opr|firefox|fxios|yabrowser|samsungbrowser)\/$/i;
const SLASH = 47;
const DASH = 45;
/** A dotted quad carrying a pre-release or build suffix ("11.3.244.8-node.19", "1.2.3.4-rc1") is a version. */
const versionSuffixAt = (text: string, end: number): boolean => {
  const next = text.charCodeAt(end + 1) | 32; // lower-cased if a letter
  return text.charCodeAt(end) === DASH && next >= 97 && next <= 122;
};

// Every IPv6 address has '::' or (uncompressed) ':h:h:h:' (times like 10:11:12 have too few
// colons). From such a hint the code walks back to the token start and takes the bounded run of
// address chars there.
const IPV6_HINT = anchoredRegex(/::|:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:/y, 'ipv6Hints');
const IPV6_CANDIDATE = /[0-9A-Fa-f:.]{2,45}(?![\w:])/y;
const isAddressChar = (code: number): boolean =>
  (code >= 48 && code <= 58) || code === 46 || (code >= 65 && code <= 70) || (code >= 97 && code <= 102); // 0-9 : . A-F a-f
const isWordChar = (code: number): boolean =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;

function ipv6Valid(candidate: string): boolean {
  let text = candidate;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!IPV4_EXACT.test(tail)) return false;
    text = `${text.slice(0, lastColon + 1)}0:0`; // an embedded IPv4 counts as two groups
  }
  if (!/[0-9A-Fa-f]/.test(text)) return false;
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => (half === '' ? [] : half.split(':')));
  if (!groups.every((group) => /^[0-9A-Fa-f]{1,4}$/.test(group))) return false;
  return halves.length === 2 ? groups.length <= 7 : groups.length === 8;
}

export const ipAddressDetector: Detector = {
  entityTypes: ['IP_ADDRESS'],
  find(text, emit) {
    forEachAnchoredMatch(IPV4, text, (m) => {
      const lineStart = text.lastIndexOf('\n', m.index) + 1;
      const before = text.slice(Math.max(lineStart, m.index - 16), m.index);
      const end = m.index + m[0].length;
      if (VERSION_LABEL.test(before) || versionSuffixAt(text, end)) return;
      if (text.charCodeAt(m.index - 1) === SLASH && BROWSER_TOKEN.test(before)) return;
      emit(m.index, end, 'IP_ADDRESS');
    });
    // The previous hint and its run start: a walk back that reaches it reuses it, so hex runs
    // full of '::' cost linear time.
    let previousHint = -1;
    let previousStart = 0;
    let next = 0; // where a global scan for the next hint would resume
    for (const hintAt of candidatesOf(text)[IPV6_HINT.startsAt]) {
      if (hintAt < next) continue;
      IPV6_HINT.regex.lastIndex = hintAt;
      const hint = IPV6_HINT.regex.exec(text);
      if (hint === null) continue;
      next = hintAt + hint[0].length;
      let start = hint.index;
      while (start > 0 && start > previousHint && isAddressChar(text.charCodeAt(start - 1))) start--;
      if (start === previousHint) start = previousStart;
      previousHint = hint.index;
      previousStart = start;
      const before = start > 0 ? text.charCodeAt(start - 1) : 32;
      if (isWordChar(before)) continue; // inside a longer word: not an address
      IPV6_CANDIDATE.lastIndex = start;
      const m = IPV6_CANDIDATE.exec(text);
      if (m === null) continue;
      next = Math.max(next, start + m[0].length);
      const candidate = m[0].replace(/\.+$/, ''); // a sentence-ending dot is not part of it
      // Logs often append a port without brackets ("2001:db8::1:5432" is ambiguous, "…:7334:5432"
      // with nine groups is not): fall back to the address without its last group.
      const withoutPort = candidate.slice(0, candidate.lastIndexOf(':'));
      const address = ipv6Valid(candidate) ? candidate : ipv6Valid(withoutPort) ? withoutPort : undefined;
      if (address !== undefined) emit(start, start + address.length, 'IP_ADDRESS');
    }
  },
};
