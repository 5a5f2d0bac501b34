import { mapError } from './kube-client';

const apiError = (code: number, message: string) => ({ code, body: JSON.stringify({ message }) });

describe('mapError', () => {
  it.each([
    [400, 'K8S.REJECTED', false],
    [422, 'K8S.REJECTED', false],
    [401, 'K8S.FORBIDDEN', false],
    [403, 'K8S.FORBIDDEN', false],
    [404, 'K8S.NOT_FOUND', true],
    [409, 'K8S.CONFLICT', true],
    [500, 'K8S.API_UNAVAILABLE', true],
    [503, 'K8S.API_UNAVAILABLE', true],
  ])('HTTP %i → %s (retryable %s)', (status, code, retryable) => {
    const mapped = mapError(apiError(status, 'refused'), 'apply Namespace/x');
    expect(mapped).toMatchObject({ code, retryable, message: 'apply Namespace/x: refused' });
  });

  it('a namespace being terminated is retryable, not forbidden', () => {
    const error = apiError(
      403,
      'unable to create new content in namespace e-commerce-t because it is being terminated',
    );
    expect(mapError(error, 'apply')).toMatchObject({ code: 'K8S.NAMESPACE_TERMINATING', retryable: true });
  });

  it('a network failure (no status) is retryable, with the first line of its message only', () => {
    const mapped = mapError(new Error('connect ECONNREFUSED 127.0.0.1:1\nstack...'), 'list Namespace');
    expect(mapped).toMatchObject({ code: 'K8S.API_UNAVAILABLE', retryable: true });
    expect(mapped.message).toBe('list Namespace: connect ECONNREFUSED 127.0.0.1:1');
  });

  it('a non-JSON body is quoted, truncated', () => {
    const mapped = mapError({ code: 502, body: 'x'.repeat(1000) }, 'read');
    expect(mapped.message).toBe(`read: ${'x'.repeat(300)}`);
  });
});
