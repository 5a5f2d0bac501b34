import type { FailureReason } from '@app/contracts';
import { classifyDrift, DRIFT_ID_PATTERN, failedChecks } from './index';

const failure = (code: string, message: string): FailureReason => ({ code, message, retryable: false });
const broker = (checks: string) => failure('BROKER.VERIFICATION_FAILED', `failed checks: ${checks}`);
const databases = (checks: string) => failure('DATABASE.VERIFICATION_FAILED', `failed checks: ${checks}`);

describe('drift classification', () => {
  it('repairs a missing permission or a missing queue, exchange or binding of the topology by itself', () => {
    expect(classifyDrift('broker', broker('user:permissions-own-vhost-only'))).toEqual({
      kind: 'broker-permissions',
      kinds: ['broker-permissions'],
      automatic: true,
      checks: ['user:permissions-own-vhost-only'],
    });
    expect(classifyDrift('broker', broker('queue:t.orders, binding:t.orders:order.*'))).toMatchObject({
      kind: 'broker-topology',
      automatic: true,
    });
    expect(classifyDrift('broker', broker('exchange:t.events'))).toMatchObject({ automatic: true });
  });

  it("treats the AMQP probe's failure as a consequence of a topology or permission drift", () => {
    const result = classifyDrift('broker', broker('queue:t.orders, amqp:connect-publish-consume'));
    expect(result).toMatchObject({ kind: 'broker-topology', kinds: ['broker-topology'], automatic: true });
    // Alone, the same failure means the credentials no longer work: an operator looks first.
    expect(classifyDrift('broker', broker('amqp:connect-publish-consume'))).toMatchObject({
      kind: 'broker-credentials',
      automatic: false,
    });
  });

  it('asks an operator as soon as one failed check is of an unsafe kind', () => {
    const result = classifyDrift('broker', broker('queue:t.orders, vhost:limit:max-queues'));
    expect(result).toMatchObject({
      kind: 'broker-limits',
      kinds: ['broker-topology', 'broker-limits'],
      automatic: false,
    });
    expect(classifyDrift('broker', broker('vhost:exists'))).toMatchObject({ kind: 'broker-vhost' });
  });

  it('classifies database checks, a revoked grant needing an operator', () => {
    expect(classifyDrift('databases', databases('t_orders_u:grants, t_orders_u:own-database'))).toEqual({
      kind: 'database-grants',
      kinds: ['database-grants'],
      automatic: false,
      checks: ['t_orders_u:grants', 't_orders_u:own-database'],
    });
    expect(classifyDrift('databases', databases('t_orders_u:max-connections')).kind).toBe('database-limits');
    expect(classifyDrift('databases', databases('t_orders_db:exists')).kind).toBe('database-schema');
    expect(classifyDrift('databases', databases('t_orders_u:connect')).kind).toBe('database-credentials');
  });

  it('repairs a changed bucket policy by itself, not a missing bucket', () => {
    const exposed = failure('STORAGE.PRIVATE_OBJECT_EXPOSED', 'anonymous read of t-sav answered 200');
    expect(classifyDrift('storage', exposed)).toMatchObject({
      kind: 'storage-bucket-policy',
      automatic: true,
    });
    const broken = failure('STORAGE.PUBLIC_READ_BROKEN', 'anonymous read under t-products/public/ refused');
    expect(classifyDrift('storage', broken)).toMatchObject({
      kind: 'storage-bucket-policy',
      automatic: true,
    });
    const missing = failure('STORAGE.BUCKET_MISSING', 'bucket t-sav not found');
    expect(classifyDrift('storage', missing)).toMatchObject({ kind: 'storage-bucket', automatic: false });
  });

  it('leaves what it does not know to an operator', () => {
    expect(classifyDrift('storage', failure('STORAGE.NEW_CHECK', 'x'))).toMatchObject({
      kind: 'other',
      automatic: false,
    });
    expect(classifyDrift('broker', failure('BROKER.VERIFICATION_FAILED', 'no list'))).toMatchObject({
      kind: 'other',
      automatic: false,
    });
    expect(
      classifyDrift('kubernetes', failure('K8S.VERIFICATION_FAILED', 'deployment x not ready')).kind,
    ).toBe('kubernetes-workloads');
  });

  it('takes only well-formed check names from a message', () => {
    expect(failedChecks('failed checks: a:b, <script>, c/d:e')).toEqual(['a:b', 'c/d:e']);
    expect(failedChecks('something else')).toEqual([]);
  });

  it('accepts drift ids of the shape the checks give them', () => {
    expect(DRIFT_ID_PATTERN.test('3-broker')).toBe(true);
    expect(DRIFT_ID_PATTERN.test('12-databases')).toBe(true);
    for (const bad of ['0-broker', '3-queues', '3-broker/../x', 'broker', '-1-broker']) {
      expect(DRIFT_ID_PATTERN.test(bad)).toBe(false);
    }
  });
});
