import type { CompiledGuardrails, GuardrailViolation, OutputGuard } from '../../guardrails/index.js';
import { createMaskingStream, type DataMaskingMetrics, type Finding, type MaskingOptions, type MaskingStream } from '../../masking/index.js';

/** What applies to a session's output, resolved from its connection when the session starts. */
export interface SessionPolicy {
  masking?: MaskingOptions;
  guardrails?: CompiledGuardrails;
}

export type OutputStreamType = 'o' | 'e';

/** Redactions of one info type in a session, for the session reports. */
export interface MaskingTotals {
  redactCount: number;
  transformedBytes: number;
}

/** An `onFinding` that adds each redaction to the session's totals per info type. */
export function countFindingsInto(byInfoType: Map<string, MaskingTotals>): (finding: Finding) => void {
  return (finding) => {
    const totals = byInfoType.get(finding.entityType) ?? { redactCount: 0, transformedBytes: 0 };
    totals.redactCount++;
    totals.transformedBytes += finding.length;
    byInfoType.set(finding.entityType, totals);
  };
}

interface StreamFilters {
  guard: OutputGuard | undefined;
  masker: MaskingStream | undefined;
}

/**
 * Everything a session's output goes through before it is recorded or returned: output guard
 * rails first (they judge the clear text), then masking. Each of stdout and stderr has its own
 * filters, because each holds back its own partial line. Bytes come out in input order per stream.
 */
export class SessionOutputFilter {
  private readonly streams: Record<OutputStreamType, StreamFilters>;
  private readonly byInfoType = new Map<string, MaskingTotals>();
  /** The first output violation; once set, no more output passes. */
  violations: GuardrailViolation[] = [];

  constructor(policy: SessionPolicy) {
    const filters = (): StreamFilters => ({
      guard: policy.guardrails?.hasOutputRules ? policy.guardrails.createOutputGuard() : undefined,
      masker: policy.masking
        ? createMaskingStream({
            ...policy.masking,
            onFinding: countFindingsInto(this.byInfoType),
          })
        : undefined,
    });
    this.streams = { o: filters(), e: filters() };
  }

  /** The bytes of `data` that may be recorded and returned now. */
  write(type: OutputStreamType, data: Buffer): Buffer {
    return this.filter(this.streams[type], data, false);
  }

  /** What each stream still held back, at the end of the session. */
  end(): { type: OutputStreamType; data: Buffer }[] {
    return (['o', 'e'] as const).map((type) => ({ type, data: this.filter(this.streams[type], Buffer.alloc(0), true) }));
  }

  private filter(filters: StreamFilters, data: Buffer, final: boolean): Buffer {
    if (this.violations.length) return Buffer.alloc(0);
    let passed = data;
    if (filters.guard) {
      const result = final ? filters.guard.end() : filters.guard.write(data);
      passed = result.pass;
      if (result.violations.length) this.violations = result.violations;
    }
    if (!filters.masker) return passed;
    const masked = filters.masker.write(passed);
    // Text the guard let through before a violation is complete output: flush what masking held.
    return final || this.violations.length ? Buffer.concat([masked, filters.masker.end()]) : masked;
  }

  /** `metrics.data_masking` (reference shape), when masking applied to the session. */
  maskingMetrics(): DataMaskingMetrics | undefined {
    const { o, e } = this.streams;
    if (!o.masker || !e.masker) return undefined;
    const out = o.masker.metrics();
    const err = e.masker.metrics();
    const infoTypes = { ...out.info_types };
    for (const [type, count] of Object.entries(err.info_types)) infoTypes[type] = (infoTypes[type] ?? 0) + count;
    return {
      err_count: out.err_count + err.err_count,
      info_types: infoTypes,
      total_redact_count: out.total_redact_count + err.total_redact_count,
      transformed_bytes: out.transformed_bytes + err.transformed_bytes,
    };
  }

  maskingTotals(): Map<string, MaskingTotals> {
    return new Map(this.byInfoType);
  }
}
