import { RabbitManagementError } from '@app/rabbitmq-admin';
import { classifyManagementFailure } from './errors';

const http = (status: number, reason = '') => ({
  code: 'MANAGEMENT.HTTP_ERROR',
  status,
  retryable: status >= 500,
  reason,
});

describe('classifyManagementFailure', () => {
  it.each([
    [http(500), 'BROKER.MANAGEMENT_UNAVAILABLE', true],
    [http(503), 'BROKER.MANAGEMENT_UNAVAILABLE', true],
    [{ code: 'MANAGEMENT.TIMEOUT', retryable: true, reason: '' }, 'BROKER.MANAGEMENT_UNAVAILABLE', true],
    [{ code: 'MANAGEMENT.UNREACHABLE', retryable: true, reason: '' }, 'BROKER.MANAGEMENT_UNAVAILABLE', true],
    [http(401), 'BROKER.ADMIN_UNAUTHORIZED', false],
    [http(403), 'BROKER.ADMIN_FORBIDDEN', false],
    [http(400, 'bad json'), 'BROKER.BAD_REQUEST', false],
    [http(404), 'BROKER.NOT_FOUND', false],
    [http(409), 'BROKER.HTTP_ERROR', false],
    [{ code: 'MANAGEMENT.INVALID_NAME', retryable: false, reason: '' }, 'BROKER.BAD_REQUEST', false],
  ])('%p → %s', (failure, code, isRetryable) => {
    expect(classifyManagementFailure(failure, 'vhost', 'v')).toMatchObject({ code, retryable: isRetryable });
  });

  it('retries a 401 inside the tenant vhost (missing or still starting) but not on the vhost or user itself', () => {
    for (const operation of ['exchange', 'queue', 'binding', 'permissions'] as const) {
      expect(classifyManagementFailure(http(401), operation, 'x')).toMatchObject({
        code: 'BROKER.VHOST_NOT_READY',
        retryable: true,
      });
    }
    expect(classifyManagementFailure(http(401), 'user', 'u')).toMatchObject({ retryable: false });
  });

  it('names a queue declared with other arguments a topology conflict', () => {
    const failure = http(400, "PRECONDITION_FAILED - inequivalent arg 'x-max-length'");
    expect(classifyManagementFailure(failure, 'queue', 'q')).toMatchObject({
      code: 'BROKER.TOPOLOGY_CONFLICT',
      retryable: false,
    });
    expect(classifyManagementFailure(failure, 'binding', 'q')).toMatchObject({ code: 'BROKER.BAD_REQUEST' });
  });

  it("takes @app/rabbitmq-admin's typed errors as they are", () => {
    const error = new RabbitManagementError(
      'MANAGEMENT.BAD_REQUEST',
      'PUT /api/exchanges/v/x: HTTP 400',
      400,
      'PRECONDITION_FAILED - inequivalent arg',
    );
    expect(classifyManagementFailure(error, 'exchange', 'x')).toMatchObject({
      code: 'BROKER.TOPOLOGY_CONFLICT',
      retryable: false,
    });
    const down = new RabbitManagementError('MANAGEMENT.UNREACHABLE', 'GET /api/overview: ECONNREFUSED');
    expect(classifyManagementFailure(down, 'inspect', 'v')).toMatchObject({
      code: 'BROKER.MANAGEMENT_UNAVAILABLE',
      retryable: true,
    });
  });
});
