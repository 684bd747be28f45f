/**
 * Credentials recognisable by their own prefix: AWS access key ids (and a labelled secret key),
 * GCP API keys, GitHub tokens, Slack tokens and JWTs. PEM private keys span lines and are handled
 * by ../private-key.ts.
 */
import type { ColumnRule, Detector } from '../types.js';
import { anchoredRegex, forEachAnchoredMatch, labelPrefix, valueStart } from './regex-scan.js';

// Each alternative starts with a distinct literal prefix followed by a look-behind that the
// prefix starts a token; all parts are bounded and non-overlapping.
const TOKEN = anchoredRegex(
  /(?:((?:AKIA|ASIA)(?<![\w-]....)[A-Z0-9]{16})|(AIza(?<![\w-]....)[\w-]{35})|(gh[pousr]_(?<![\w-]....)[A-Za-z0-9]{36,251}|github_pat_(?<![\w-].{11})\w{22,255})|(xox[abposr]-(?<![\w-].{5})[A-Za-z0-9-]{10,250})|(eyJ(?<![\w-]...)[\w-]{2,4096}\.eyJ[\w-]{2,4096}\.[\w-]{0,4096}))(?![\w-])/y,
  'credentialStarts',
);
const AWS_SECRET_LABELS = 'aws_secret_access_key|aws[ _-]secret(?:[ _-]key)?';
const AWS_SECRET_LABELLED = anchoredRegex(
  new RegExp(`${labelPrefix(AWS_SECRET_LABELS)}([A-Za-z0-9/+]{40})(?![\\w/+])`, 'iy'),
  'awsSecretLabels',
);
/** A secret key in a column headed by the label (../columns.ts). */
export const AWS_SECRET_COLUMN: ColumnRule = {
  entityType: 'AWS_CREDENTIALS',
  labels: AWS_SECRET_LABELS,
  value: /^[A-Za-z0-9/+]{40}$/,
};

const TYPES = ['AWS_CREDENTIALS', 'GCP_API_KEY', 'GITHUB_TOKEN', 'SLACK_TOKEN', 'JSON_WEB_TOKEN'] as const;

/** A JWT header is base64url JSON naming its algorithm. */
function jwtHeaderValid(token: string): boolean {
  const encoded = token.slice(0, token.indexOf('.'));
  // Tokens from one issuer share their header, so the last answer is usually the next one.
  if (encoded !== lastJwtHeader.encoded) lastJwtHeader = { encoded, valid: decodesToJwtHeader(encoded) };
  return lastJwtHeader.valid;
}
let lastJwtHeader = { encoded: '', valid: false };

function decodesToJwtHeader(encoded: string): boolean {
  try {
    const header: unknown = JSON.parse(atob(encoded.replace(/-/g, '+').replace(/_/g, '/'))); // atob: no Buffer allocation per candidate
    return typeof header === 'object' && header !== null && 'alg' in header;
  } catch {
    return false;
  }
}

export const secretsDetector: Detector = {
  entityTypes: TYPES,
  find(text, emit, wanted) {
    forEachAnchoredMatch(TOKEN, text, (m) => {
      const group = m.findIndex((value, index) => index > 0 && value !== undefined);
      const type = TYPES[group - 1];
      if (type === undefined || !wanted.has(type)) return;
      if (type === 'JSON_WEB_TOKEN' && !jwtHeaderValid(m[0])) return;
      emit(m.index, m.index + m[0].length, type);
    });
    if (wanted.has('AWS_CREDENTIALS')) {
      forEachAnchoredMatch(AWS_SECRET_LABELLED, text, (m) => {
        const value = m[1] ?? '';
        emit(valueStart(m, value), m.index + m[0].length, 'AWS_CREDENTIALS');
      });
    }
  },
};
