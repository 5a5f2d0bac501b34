import type { CommandMessage } from '@app/contracts';
import { StepError, permanent } from '@app/platform';
import { manifestGuard } from './handler-guard';
import { ManifestError } from './schema';

const guard = manifestGuard('TEST');
const command = {} as CommandMessage<'ProvisionMonitoring'>;

async function failure(thrown: unknown): Promise<StepError> {
  const handler = guard<'ProvisionMonitoring'>(async () => {
    throw thrown;
  });
  return handler(command, { correlationId: 'c' }).then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as StepError,
  );
}

describe('manifestGuard', () => {
  it('passes the correlation id and the outputs through', async () => {
    const handler = guard<'ProvisionMonitoring'>(async (_command, correlationId) => ({ correlationId }));
    await expect(handler(command, { correlationId: 'corr-1' })).resolves.toEqual({ correlationId: 'corr-1' });
  });

  it('keeps a StepError as it is', async () => {
    const original = permanent('TEST.SPECIFIC', 'specific');
    expect(await failure(original)).toBe(original);
  });

  it('turns a ManifestError into a permanent failure with its code', async () => {
    const error = await failure(new ManifestError('K8S.INVALID_MANIFEST', 'Namespace x is invalid', ['a']));
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ code: 'K8S.INVALID_MANIFEST', retryable: false });
  });

  it('turns anything else into a retryable <domain>.UNEXPECTED with the first line only', async () => {
    const error = await failure(new Error('boom\nat some stack frame'));
    expect(error).toMatchObject({ code: 'TEST.UNEXPECTED', retryable: true, message: 'boom' });
  });
});
