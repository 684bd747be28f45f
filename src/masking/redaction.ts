/**
 * The one place that decides what a redacted value looks like: `[ENTITY_TYPE]`, with the entity
 * type spelt as the rule requested it (e.g. `[US_SSN]` for a Presidio rule, `[US_SOCIAL_SECURITY_NUMBER]`
 * by default).
 */
export const redactionMarker = (entityType: string): string => `[${entityType}]`;

/** Replaces text that could not be scanned in strict mode (a detector failed). */
export const MASKING_ERROR_MARKER = '[MASKING_ERROR]';
