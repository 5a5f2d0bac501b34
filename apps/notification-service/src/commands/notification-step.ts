import { permanent } from '@app/platform';
import { withSecretStore } from '@app/secrets';

/** One secret-store call, classified by `@app/secrets` for every service alike. */
export function secretCall<T>(action: string, path: string, run: () => Promise<T>): Promise<T> {
  return withSecretStore('NOTIFICATION', action, path, run);
}

/** An ISO-8601 instant, normalised to UTC; anything else is a permanent `NOTIFICATION.BAD_DATE`. */
export function isoInstant(value: unknown, name: string): string {
  const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw permanent('NOTIFICATION.BAD_DATE', `${name} is not ISO-8601`);
  return date.toISOString();
}
