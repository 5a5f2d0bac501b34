import { z } from 'zod';
import { ConfigError, envBoolean, loadConfig, localCredential } from './config';
import { baseConfigSchema, brokerConnectTimeoutMs } from './bootstrap';

describe('loadConfig', () => {
  const schema = (env: NodeJS.ProcessEnv) =>
    z.object({
      PORT: z.coerce.number().int().min(1).max(65535).default(3000),
      ADMIN_PASSWORD: localCredential(z.string().min(8), 'local-only-password', env),
      VERBOSE: envBoolean(false),
    });

  it('applies local defaults outside production', () => {
    const env = {};
    expect(loadConfig(schema(env), env)).toEqual({
      PORT: 3000,
      ADMIN_PASSWORD: 'local-only-password',
      VERBOSE: false,
    });
  });

  it('requires credentials in production, naming the variable without echoing any value', () => {
    const env = { NODE_ENV: 'production', PORT: '99999' };
    let error: unknown;
    try {
      loadConfig(schema(env), env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).issues.map((issue) => issue.variable).sort();
    expect(variables).toEqual(['ADMIN_PASSWORD', 'PORT']);
    expect((error as ConfigError).message).not.toContain('99999');
  });

  it('takes a production credential from the environment and refuses a short one', () => {
    const ok = { NODE_ENV: 'production', ADMIN_PASSWORD: 'a-long-enough-secret' };
    expect(loadConfig(schema(ok), ok).ADMIN_PASSWORD).toBe('a-long-enough-secret');
    const short = { NODE_ENV: 'production', ADMIN_PASSWORD: 'short' };
    expect(() => loadConfig(schema(short), short)).toThrow(/ADMIN_PASSWORD/);
    expect(() => loadConfig(schema(short), short)).not.toThrow(/short/);
  });
});

describe('start-up settings shared by every process', () => {
  it('takes every event store URL scheme the factory supports, DNS discovery included, and refuses others', () => {
    for (const url of [
      'esdb://127.0.0.1:2113?tls=false',
      'esdb+discover://cluster.example.com:2113',
      'kurrentdb://127.0.0.1:2113',
      'kurrentdb+discover://cluster.example.com:2113',
      'postgres://postgres@127.0.0.1:5432/provisioning',
      'memory:',
    ]) {
      expect(loadConfig(baseConfigSchema, { EVENTSTORE_URL: url }).EVENTSTORE_URL).toBe(url);
    }
    expect(() => loadConfig(baseConfigSchema, { EVENTSTORE_URL: 'mysql://root@db/x' })).toThrow(
      /EVENTSTORE_URL/,
    );
  });

  it('defaults to pools of 10 and a 60 s start-up wait, refusing values out of range', () => {
    const config = loadConfig(baseConfigSchema, {});
    expect(config.EVENTSTORE_POOL_SIZE).toBe(10);
    expect(config.STARTUP_TIMEOUT_SECONDS).toBe(60);
    expect(() => loadConfig(baseConfigSchema, { EVENTSTORE_POOL_SIZE: '0' })).toThrow(/EVENTSTORE_POOL_SIZE/);
    expect(() => loadConfig(baseConfigSchema, { STARTUP_TIMEOUT_SECONDS: '-1' })).toThrow(
      /STARTUP_TIMEOUT_SECONDS/,
    );
  });

  it('gives RabbitMQ the start-up timeout, and never less than one 15 s attempt', () => {
    expect(brokerConnectTimeoutMs(60)).toBe(60_000);
    expect(brokerConnectTimeoutMs(0)).toBe(15_000);
  });
});
