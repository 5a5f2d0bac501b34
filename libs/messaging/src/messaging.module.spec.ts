import * as messaging from '@app/messaging';

describe('MessagingModule', () => {
  it('loads through the index under Jest and builds a global module exporting the three services', () => {
    const dynamic = messaging.MessagingModule.forRoot({ url: 'amqp://localhost', connectionName: 'svc' });
    expect(dynamic.global).toBe(true);
    expect(dynamic.exports).toEqual([
      messaging.MessagingConnection,
      messaging.MessagePublisher,
      messaging.MessageConsumer,
    ]);
    const provided = (dynamic.providers ?? []).map((p) => (typeof p === 'function' ? p : p.provide));
    expect(provided).toEqual(
      expect.arrayContaining([
        messaging.MESSAGING_OPTIONS,
        messaging.MessagingConnection,
        messaging.MessagingLifecycle,
      ]),
    );
  });
});
