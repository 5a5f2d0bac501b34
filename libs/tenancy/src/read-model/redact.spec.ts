import { REDACTED, redactSecrets } from './redact';

describe('redactSecrets', () => {
  it('masks secret-looking keys at any depth, including inside arrays', () => {
    const input = {
      password: 'p',
      nested: { clientSecret: 's', apiToken: 't', accessKey: 'k', list: [{ db_password: 'x', name: 'ok' }] },
    };
    expect(redactSecrets(input)).toEqual({
      password: REDACTED,
      nested: {
        clientSecret: REDACTED,
        apiToken: REDACTED,
        accessKey: REDACTED,
        list: [{ db_password: REDACTED, name: 'ok' }],
      },
    });
  });

  it('keeps secret references and ordinary fields untouched', () => {
    const input = {
      secretPath: '/e-commerce/tenants/x/minio',
      manifestKey: 'a/b.json',
      keyword: 'k',
      count: 3,
      none: null,
    };
    expect(redactSecrets(input)).toEqual(input);
  });
});
