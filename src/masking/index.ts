/** Data-masking engine: finds and redacts sensitive values in byte streams (no I/O). */
export { MaskingStream, createMaskingStream, maskBuffer } from './engine.js';
export { BUILT_IN_ENTITY_TYPES, resolveEntityTypes } from './entity-types.js';
export { MAX_PIECE_BYTES } from './pieces.js';
export { MASKING_ERROR_MARKER, redactionMarker } from './redaction.js';
export type { CustomEntityType, DataMaskingMetrics, Detector, Emit, Finding, MaskingMode, MaskingOptions } from './types.js';
