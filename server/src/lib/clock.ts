export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Midnight UTC of the day `d` falls in: where daily budgets and "today" start. */
export function startOfUtcDay(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}
