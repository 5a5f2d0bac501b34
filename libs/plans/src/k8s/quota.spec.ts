import { downgradeRefusals, isDowngrade, quotaDiff } from './quota';

describe('tier change quota diff', () => {
  it('lists every resource with its direction', () => {
    const diff = quotaDiff('premium', 'standard');
    expect(diff.find((c) => c.resource === 'requests.cpu')).toEqual({
      resource: 'requests.cpu',
      from: '6',
      to: '3',
      direction: 'down',
    });
    expect(diff.find((c) => c.resource === 'services.nodeports')?.direction).toBe('same');
    expect(isDowngrade(diff)).toBe(true);
    expect(isDowngrade(quotaDiff('standard', 'business'))).toBe(false);
  });

  it('a downgrade fits when usage is within the new quota, and names every resource that does not', () => {
    expect(
      downgradeRefusals('standard', { 'requests.cpu': '2500m', 'limits.memory': '12Gi', pods: '13' }),
    ).toEqual([]);
    expect(
      downgradeRefusals('standard', { 'requests.cpu': '3500m', 'limits.memory': '13Gi', pods: '13' }),
    ).toEqual([
      'requests.cpu: 3500m in use exceeds the standard quota of 3',
      'limits.memory: 13Gi in use exceeds the standard quota of 12Gi',
    ]);
  });
});
