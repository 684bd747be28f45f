/** Bounds that keep a rule set's compile time, memory and per-byte cost small. */
export const GUARDRAIL_LIMITS = {
  rulesPerSet: 100,
  wordsPerRule: 1000,
  wordChars: 1024,
  patternChars: 4096,
  /** Entries of deny_statements, deny_tables, deny_schemas. */
  sqlNamesPerRule: 1000,
  /**
   * Larger scripts violate every SQL rule: the parser's WASM heap grows by about 150 MB per MiB of
   * SQL and never shrinks, and past a few tens of MiB the parser dies.
   */
  sqlScriptBytes: 1024 * 1024,
} as const;
