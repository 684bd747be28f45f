import type { Logger } from '../../log.js';
import type { NotificationType, Notifier } from '../notifications/notification-types.js';
import type { ReviewRecord } from './review-types.js';
import { reviewView } from './review-view.js';

/**
 * Publishes a review event. The decision is already stored when this runs, so a notifier
 * failure is logged (without the review's data) rather than undoing or failing the request.
 */
export async function publishReview(notifier: Notifier, log: Logger, type: NotificationType, review: ReviewRecord): Promise<void> {
  try {
    await notifier.publish({ type, data: reviewView(review) });
  } catch (error) {
    log.error({ err: error, reviewId: review.id, type }, 'publishing a review notification failed');
  }
}
