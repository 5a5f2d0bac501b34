import { loadConfig } from '@app/platform';
import { configSchema } from './config';

describe('k8s-service configuration', () => {
  it('does not trust a commit as proof of health unless told to (fails closed)', () => {
    expect(loadConfig(configSchema, {}).K8S_VERIFY_TRUST_COMMIT).toBe(false);
    expect(loadConfig(configSchema, { K8S_VERIFY_TRUST_COMMIT: 'true' }).K8S_VERIFY_TRUST_COMMIT).toBe(true);
  });
});
