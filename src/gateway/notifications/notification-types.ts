/**
 * What the gateway tells the outside world about (outgoing webhooks now; other channels later).
 * Producers (reviews, sessions) publish; the notifier persists one delivery per subscriber
 * before `publish` resolves, so nothing is lost if the gateway stops before sending.
 */
export type NotificationType = 'review.created' | 'review.approved' | 'review.rejected' | 'review.executed' | 'session.finished';

export const NOTIFICATION_TYPES: readonly NotificationType[] = [
  'review.created',
  'review.approved',
  'review.rejected',
  'review.executed',
  'session.finished',
];

export interface NotificationEvent {
  type: NotificationType;
  /** The resource's JSON as the API shows it (a review, a session summary); never secrets. */
  data: Record<string, unknown>;
}

export interface Notifier {
  publish(event: NotificationEvent): Promise<void>;
}
