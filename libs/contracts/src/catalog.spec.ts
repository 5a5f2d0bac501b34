import {
  buildMessage,
  COMMAND_CATALOG,
  COMMAND_TYPES,
  commandForResult,
  commandRoutingKey,
  deterministicId,
  isCommandType,
  PROVISIONING_STEPS,
  resultEventId,
  serviceQueueName,
} from './index';

describe('message catalog', () => {
  it('gives every command one success and one failure event, all distinct', () => {
    const names = COMMAND_TYPES.flatMap((c) => [COMMAND_CATALOG[c].succeeded, COMMAND_CATALOG[c].failed]);
    expect(new Set(names).size).toBe(names.length);
    for (const command of COMMAND_TYPES) {
      expect(commandForResult(COMMAND_CATALOG[command].succeeded)).toEqual({ command, outcome: 'succeeded' });
      expect(commandForResult(COMMAND_CATALOG[command].failed)).toEqual({ command, outcome: 'failed' });
    }
    expect(commandForResult('TenantRequested')).toBeUndefined();
  });

  it('routes commands by <service>.<action>', () => {
    expect(commandRoutingKey('ProvisionDatabases')).toBe('database.provision-databases');
    expect(commandRoutingKey('VerifyKubernetes')).toBe('k8s.verify-kubernetes');
    expect(serviceQueueName('database')).toBe('provisioning.database-service');
    expect(isCommandType('ProvisionDatabases')).toBe(true);
    expect(isCommandType('toString')).toBe(false);
  });

  it('gives the website record activation, soft delete and restore to the notification service, which owns the record', () => {
    expect(commandRoutingKey('ActivateWebsiteRecord')).toBe('notification.activate-website-record');
    expect(commandForResult('WebsiteRecordActivated')).toEqual({
      command: 'ActivateWebsiteRecord',
      outcome: 'succeeded',
    });
    // Activation sets the record active after the tenant is, and like every after-activation step never
    // rolls the tenant back.
    expect(PROVISIONING_STEPS.find((step) => step.command === 'ActivateWebsiteRecord')).toMatchObject({
      name: 'website-activation',
      dependsOn: ['activate'],
      phase: 'after-activation',
    });
    expect(commandRoutingKey('SoftDeleteWebsiteRecord')).toBe('notification.soft-delete-website-record');
    expect(commandRoutingKey('RestoreWebsiteRecord')).toBe('notification.restore-website-record');
    expect(commandForResult('WebsiteRecordSoftDeleted')).toEqual({
      command: 'SoftDeleteWebsiteRecord',
      outcome: 'succeeded',
    });
    expect(commandForResult('WebsiteRecordRestorationFailed')).toEqual({
      command: 'RestoreWebsiteRecord',
      outcome: 'failed',
    });
  });

  it('derives ids deterministically, so a retried command appends the same result event', () => {
    expect(resultEventId('c1')).toBe(resultEventId('c1'));
    expect(resultEventId('c1')).not.toBe(resultEventId('c2'));
    expect(deterministicId('a', 'bc')).not.toBe(deterministicId('ab', 'c'));
  });

  it('describes a DAG whose dependencies exist and that has no cycle', () => {
    const names = new Set([...PROVISIONING_STEPS.map((s) => s.name), 'activate']);
    for (const step of PROVISIONING_STEPS)
      for (const dep of step.dependsOn) expect(names.has(dep)).toBe(true);
    const visiting = new Set<string>();
    const visit = (name: string): void => {
      if (visiting.has(name)) throw new Error(`cycle through ${name}`);
      visiting.add(name);
      for (const dep of PROVISIONING_STEPS.find((s) => s.name === name)?.dependsOn ?? []) visit(dep);
      visiting.delete(name);
    };
    for (const step of PROVISIONING_STEPS) visit(step.name);
  });

  it('builds messages with complete metadata', () => {
    const msg = buildMessage(
      'TenantActivated',
      { activatedAt: '2025-01-15T10:30:00.000Z' },
      { tenantId: 'abc-corporation-7f3a9c', correlationId: 'corr', actor: 'orchestrator' },
      'id-1',
      new Date('2025-01-15T10:30:00Z'),
    );
    expect(msg.metadata).toEqual({
      messageId: 'id-1',
      schemaVersion: 1,
      occurredAt: '2025-01-15T10:30:00.000Z',
      tenantId: 'abc-corporation-7f3a9c',
      correlationId: 'corr',
      causationId: null,
      actor: 'orchestrator',
    });
  });
});
