import { createHmac } from 'node:crypto';

/**
 * The headers that let a receiver check a delivery came from this gateway, unchanged, recently:
 * `v1=` hex HMAC-SHA256 under the webhook's secret of `<timestamp>.<body>`. The timestamp is
 * signed so a captured request cannot be replayed later with a fresh one; the id stays the
 * same across retries so a receiver can drop duplicates.
 */
export function signedHeaders(secret: string, deliveryId: string, body: string, now: Date): Record<string, string> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return {
    'Gatehouse-Webhook-Id': deliveryId,
    'Gatehouse-Webhook-Timestamp': timestamp,
    'Gatehouse-Webhook-Signature': `v1=${signature}`,
  };
}
