/**
 * Built-in entity types. Canonical names follow GCP DLP info types (the reference's default
 * provider); Presidio spellings are accepted as aliases. A redaction is labelled with the spelling
 * the caller asked for, so a Presidio rule gets `[US_SSN]` and metrics keyed `US_SSN`.
 */
export const BUILT_IN_ENTITY_TYPES = [
  'EMAIL_ADDRESS',
  'PHONE_NUMBER',
  'CREDIT_CARD_NUMBER',
  'IBAN_CODE',
  'US_SOCIAL_SECURITY_NUMBER',
  'IP_ADDRESS',
  'URL',
  'STORAGE_SIGNED_URL',
  'HTTP_COOKIE',
  'BRAZIL_CPF_NUMBER',
  'VEHICLE_IDENTIFICATION_NUMBER',
  'IMEI_HARDWARE_ID',
  'US_PASSPORT',
  'CRYPTO',
  'DATE_OF_BIRTH',
  'AWS_CREDENTIALS',
  'GCP_API_KEY',
  'GITHUB_TOKEN',
  'SLACK_TOKEN',
  'JSON_WEB_TOKEN',
  'PRIVATE_KEY',
] as const;

const ALIASES: Record<string, string> = {
  CREDIT_CARD: 'CREDIT_CARD_NUMBER',
  US_SSN: 'US_SOCIAL_SECURITY_NUMBER',
  BR_CPF: 'BRAZIL_CPF_NUMBER',
  JWT: 'JSON_WEB_TOKEN',
  ENCRYPTION_KEY: 'PRIVATE_KEY',
};

const BUILT_IN = new Set<string>(BUILT_IN_ENTITY_TYPES);

export interface ResolvedEntityTypes {
  /** Canonical built-in types to detect. */
  wanted: Set<string>;
  /** Canonical type → label used in the output and in metrics. */
  labels: Map<string, string>;
  /** Requested names the engine cannot detect (e.g. PERSON, LOCATION): the caller should warn. */
  unsupported: string[];
}

export function resolveEntityTypes(requested: readonly string[] | undefined): ResolvedEntityTypes {
  const names = requested ?? BUILT_IN_ENTITY_TYPES;
  const wanted = new Set<string>();
  const labels = new Map<string, string>();
  const unsupported: string[] = [];
  for (const name of names) {
    const canonical = ALIASES[name] ?? name;
    if (!BUILT_IN.has(canonical)) {
      unsupported.push(name);
      continue;
    }
    wanted.add(canonical);
    if (!labels.has(canonical)) labels.set(canonical, name);
  }
  return { wanted, labels, unsupported };
}
