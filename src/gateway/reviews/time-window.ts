import { BadRequestError, ForbiddenError } from '../../errors.js';
import type { TimeWindow } from './review-types.js';

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

function minutesOf(text: string): number {
  const match = HH_MM.exec(text)!;
  return Number(match[1]) * 60 + Number(match[2]);
}

/** Checks a window given by a requester or a reviewer (400 on a bad one). */
export function validateTimeWindow(window: TimeWindow): TimeWindow {
  if (window.type !== 'time_range') throw new BadRequestError(`unknown execution window type ${window.type}`);
  const { start_time: start, end_time: end } = window.configuration;
  if (!start || !end) throw new BadRequestError('both from and to time must be provided');
  if (!HH_MM.test(start)) throw new BadRequestError('invalid start_time format, expected HH:MM in 24-hour format');
  if (!HH_MM.test(end)) throw new BadRequestError('invalid end_time format, expected HH:MM in 24-hour format');
  return { type: window.type, configuration: { start_time: start, end_time: end } };
}

/**
 * Whether `now` (its UTC time of day) is inside the window, both ends included (the end minute
 * itself, to the second). A window whose end is before its start runs over midnight: 22:00-02:00
 * admits 23:30 and 01:30 (the reference rejects the hours after midnight; fixed here).
 */
export function isWithinTimeWindow(window: TimeWindow, now: Date): boolean {
  const start = minutesOf(window.configuration.start_time) * 60;
  const end = minutesOf(window.configuration.end_time) * 60;
  const seconds = now.getUTCHours() * 3600 + now.getUTCMinutes() * 60 + now.getUTCSeconds();
  return start <= end ? seconds >= start && seconds <= end : seconds >= start || seconds <= end;
}

export function assertWithinTimeWindow(window: TimeWindow | null, now: Date): void {
  if (window && !isWithinTimeWindow(window, now)) {
    const { start_time, end_time } = window.configuration;
    throw new ForbiddenError(`execution not allowed outside the time window ${start_time} to ${end_time} UTC`);
  }
}
