import { randomBytes } from 'crypto';
import { generateTemporaryPassword, TEMPORARY_PASSWORD_LENGTH } from './admin-password';

describe('temporary admin password', () => {
  it('has 16 characters with every class and no look-alikes', () => {
    for (let i = 0; i < 200; i += 1) {
      const password = generateTemporaryPassword(randomBytes);
      expect(password).toHaveLength(TEMPORARY_PASSWORD_LENGTH);
      expect(password).toMatch(/[a-z]/);
      expect(password).toMatch(/[A-Z]/);
      expect(password).toMatch(/[0-9]/);
      expect(password).toMatch(/[!#%+\-=?@_]/);
      expect(password).not.toMatch(/[0O1lI]/);
    }
  });
});
