import { grafanaStepError } from './grafana.errors';

describe('grafanaStepError', () => {
  it('makes no answer retryable GRAFANA_UNREACHABLE, without the query a lookup carries', () => {
    const cause = new TypeError('fetch failed');
    const error = grafanaStepError('GET', '/api/users/lookup?loginOrEmail=owner%40shop.example', {
      error: cause,
    });
    expect(error).toMatchObject({
      code: 'MONITORING.GRAFANA_UNREACHABLE',
      retryable: true,
      message: 'GET /api/users/lookup: Grafana unreachable',
      cause,
    });
  });

  it.each([500, 503, 429])('makes HTTP %i retryable GRAFANA_UNAVAILABLE', (status) => {
    expect(grafanaStepError('POST', '/api/orgs', { status, json: { message: 'busy' } })).toMatchObject({
      code: 'MONITORING.GRAFANA_UNAVAILABLE',
      retryable: true,
      message: `POST /api/orgs: HTTP ${status} busy`,
    });
  });

  it.each([400, 401, 403, 404, 412])('makes HTTP %i permanent GRAFANA_REJECTED', (status) => {
    expect(grafanaStepError('POST', '/api/folders', { status, json: undefined })).toMatchObject({
      code: 'MONITORING.GRAFANA_REJECTED',
      retryable: false,
      message: `POST /api/folders: HTTP ${status} `,
    });
  });

  it("keeps at most 200 characters of Grafana's message", () => {
    const error = grafanaStepError('GET', '/api/health', { status: 400, json: { message: 'x'.repeat(500) } });
    expect(error.message).toBe(`GET /api/health: HTTP 400 ${'x'.repeat(200)}`);
  });
});
