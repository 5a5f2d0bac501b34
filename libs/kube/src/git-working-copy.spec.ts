import { firstLine } from './git-working-copy';

describe('git error messages for events and logs', () => {
  it('keep the first line only and mask credentials in any URL', () => {
    const error = new Error(
      "fatal: unable to access 'https://x-access-token:ghp_s3cr3t@github.example/org/manifests.git/': 403\nhint: more",
    );
    expect(firstLine(error)).toBe(
      "fatal: unable to access 'https://***@github.example/org/manifests.git/': 403",
    );
    expect(firstLine('plain failure')).toBe('plain failure');
  });
});
