/**
 * The tenant admin's temporary password (spec 11.2), seeded into the auth database and mailed by the welcome
 * e-mail: 16 characters with at least one lowercase,
 * uppercase, digit and symbol, from caller-supplied random bytes (rejection sampling keeps it uniform).
 * Look-alike characters (0/O, 1/l/I) are left out because people type it from an e-mail.
 */
const CLASSES = ['abcdefghijkmnopqrstuvwxyz', 'ABCDEFGHJKLMNPQRSTUVWXYZ', '23456789', '!#%+-=?@_'];
const ALL = CLASSES.join('');
export const TEMPORARY_PASSWORD_LENGTH = 16;

function pick(alphabet: string, nextBytes: (n: number) => Buffer): string {
  const limit = 256 - (256 % alphabet.length);
  for (;;) {
    for (const byte of nextBytes(16)) if (byte < limit) return alphabet[byte % alphabet.length];
  }
}

export function generateTemporaryPassword(nextBytes: (n: number) => Buffer): string {
  const chars = CLASSES.map((c) => pick(c, nextBytes));
  while (chars.length < TEMPORARY_PASSWORD_LENGTH) chars.push(pick(ALL, nextBytes));
  // Fisher-Yates so the guaranteed classes are not always in front.
  for (let i = chars.length - 1; i > 0; i -= 1) {
    const j = nextBytes(1)[0] % (i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}
