import { ConfigError } from '@app/platform';
import { loadProvisioningApiConfig } from './config';

const SIGNING = 'signing-secret-0123456789';
const BEARER = 'bearer-secret-0123456789';
const METRICS = 'metrics-token-0123456789';

function issues(env: Record<string, string>): { variable: string; message: string }[] {
  try {
    loadProvisioningApiConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('provisioning-api configuration: webhook secrets', () => {
  it('reads the signing and bearer secrets separately; signatures are optional outside production', () => {
    const config = loadProvisioningApiConfig({
      WEBHOOK_SIGNING_SECRET: SIGNING,
      WEBHOOK_BEARER_SECRET: BEARER,
    });
    expect(config).toMatchObject({
      WEBHOOK_SIGNING_SECRET: SIGNING,
      WEBHOOK_BEARER_SECRET: BEARER,
      WEBHOOK_REQUIRE_SIGNATURE: false,
      webhookSecretDeprecated: false,
    });
  });

  it('still starts with the deprecated WEBHOOK_SECRET, as the signing secret only', () => {
    const config = loadProvisioningApiConfig({ WEBHOOK_SECRET: SIGNING });
    expect(config).toMatchObject({ WEBHOOK_SIGNING_SECRET: SIGNING, webhookSecretDeprecated: true });
    expect(config.WEBHOOK_BEARER_SECRET).toBeUndefined();
  });

  it('requires a signing secret, and refuses a bearer secret equal to it, naming the variable', () => {
    expect(issues({})).toContainEqual({ variable: 'WEBHOOK_SIGNING_SECRET', message: expect.any(String) });
    const same = issues({ WEBHOOK_SIGNING_SECRET: SIGNING, WEBHOOK_BEARER_SECRET: SIGNING });
    expect(same).toEqual([{ variable: 'WEBHOOK_BEARER_SECRET', message: expect.stringMatching(/differ/) }]);
    expect(JSON.stringify(same)).not.toContain(SIGNING);
    expect(
      issues({ WEBHOOK_SECRET: SIGNING, WEBHOOK_BEARER_SECRET: SIGNING }).map((i) => i.variable),
    ).toEqual(['WEBHOOK_BEARER_SECRET']);
    expect(
      issues({ WEBHOOK_SIGNING_SECRET: SIGNING, WEBHOOK_SECRET: BEARER }).map((i) => i.variable),
    ).toEqual(['WEBHOOK_SECRET']);
  });

  it('requires signatures by default under production, unless explicitly turned off', () => {
    const production = { NODE_ENV: 'production', WEBHOOK_SIGNING_SECRET: SIGNING, METRICS_TOKEN: METRICS };
    expect(loadProvisioningApiConfig(production).WEBHOOK_REQUIRE_SIGNATURE).toBe(true);
    expect(
      loadProvisioningApiConfig({ ...production, WEBHOOK_REQUIRE_SIGNATURE: 'false' })
        .WEBHOOK_REQUIRE_SIGNATURE,
    ).toBe(false);
    expect(
      loadProvisioningApiConfig({ WEBHOOK_SIGNING_SECRET: SIGNING, WEBHOOK_REQUIRE_SIGNATURE: 'true' })
        .WEBHOOK_REQUIRE_SIGNATURE,
    ).toBe(true);
  });

  it('requires METRICS_TOKEN under production only', () => {
    expect(issues({ NODE_ENV: 'production', WEBHOOK_SIGNING_SECRET: SIGNING })).toEqual([
      { variable: 'METRICS_TOKEN', message: expect.stringMatching(/required under NODE_ENV=production/) },
    ]);
    expect(issues({ WEBHOOK_SIGNING_SECRET: SIGNING })).toEqual([]);
  });
});
