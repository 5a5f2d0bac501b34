import { readFileSync } from 'node:fs';

export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/**
 * A clock shifted by the content of a file (`+<ms>` offset or an absolute ISO instant), re-read on every
 * call so a test can move time forward while the process runs. Falls back to the system clock when the
 * file is missing or unreadable.
 */
export function fileClock(path: string): Clock {
  return () => {
    let content: string;
    try {
      content = readFileSync(path, 'utf8').trim();
    } catch {
      return new Date();
    }
    if (/^[+-]\d+$/.test(content)) return new Date(Date.now() + Number(content));
    const absolute = new Date(content);
    return Number.isNaN(absolute.getTime()) ? new Date() : absolute;
  };
}
