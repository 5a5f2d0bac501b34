import { buildEvent, buildMessage } from './envelope';

describe('envelopes', () => {
  const now = new Date('2025-07-15T10:00:00.000Z');

  it('builds an event whose id is its message id, with every metadata field and no commandId unless given', () => {
    const event = buildEvent(
      'UndecidedCommandRefused',
      { reason: 'x' },
      {
        tenantId: 'acme-corp-0a1b2c',
        correlationId: 'corr-1',
        causationId: 'cmd-1',
        actor: 'database-service',
      },
      'event-1',
      now,
    );
    expect(event).toEqual({
      id: 'event-1',
      type: 'UndecidedCommandRefused',
      data: { reason: 'x' },
      metadata: {
        messageId: 'event-1',
        schemaVersion: 1,
        occurredAt: '2025-07-15T10:00:00.000Z',
        tenantId: 'acme-corp-0a1b2c',
        correlationId: 'corr-1',
        causationId: 'cmd-1',
        actor: 'database-service',
      },
    });
    expect(Object.keys(event.metadata)).not.toContain('commandId');
  });

  it('keeps a given commandId and defaults causationId to null', () => {
    const event = buildEvent(
      'X',
      {},
      { tenantId: 't', correlationId: 'c', commandId: 'cmd-2', actor: 'a' },
      'e',
      now,
    );
    expect(event.metadata).toMatchObject({ commandId: 'cmd-2', causationId: null });
  });

  it('keeps an instant given as a string exactly as it is (a re-published event keeps its own)', () => {
    const message = buildMessage(
      'tenant.activated',
      {},
      { tenantId: 't', correlationId: 'c', actor: 'a' },
      'm',
      '2025-07-15T10:00:00.5Z',
    );
    expect(message.metadata.occurredAt).toBe('2025-07-15T10:00:00.5Z');
    expect(message).not.toHaveProperty('id');
  });
});
