import { noticeMessageId } from './message-id';

describe('notice Message-ID', () => {
  it('is deterministic per notice and tenant', () => {
    const a = noticeMessageId('welcome', 'abc-corporation-7f3a9c', 'collectverything.com');
    expect(a).toBe(noticeMessageId('welcome', 'abc-corporation-7f3a9c', 'collectverything.com'));
    expect(a).toMatch(/^<welcome\.abc-corporation-7f3a9c\.[0-9a-f]{24}@collectverything\.com>$/);
    // Unchanged across releases: a command redelivered after an upgrade resends under the same id.
    expect(a).toBe('<welcome.abc-corporation-7f3a9c.430fe136df4f7ee67feb399b@collectverything.com>');
    expect(noticeMessageId('deletion', 'abc-corporation-7f3a9c', 'collectverything.com')).not.toBe(a);
    expect(() => noticeMessageId('welcome', 'Bad Id', 'x')).toThrow();
  });
});
