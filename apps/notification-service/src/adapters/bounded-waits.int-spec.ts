import { startSilentPeer, type SilentPeer } from '../../../../test/support/silent-peer';
import { MailerError, SmtpMailer } from './mailer';
import { WebsitesClient, WebsitesError } from './websites-client';

/** The notification-service's outbound calls against a peer that accepts connections and never answers. */
describe('notification-service adapters against a silent peer', () => {
  let peer: SilentPeer;

  beforeAll(async () => {
    peer = await startSilentPeer();
  });
  afterAll(async () => {
    await peer.close();
  });

  it('the websites API: every attempt times out, then the call fails as retryable', async () => {
    const before = peer.accepted();
    const client = new WebsitesClient({
      baseUrl: `http://${peer.address}`,
      token: 'silent-peer-token',
      timeoutMs: 300,
      maxAttempts: 2,
      backoffMs: 0,
    });
    const failure = await client.findByTenant('acme-corp-0a1b2c').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WebsitesError);
    expect(failure).toMatchObject({ retryable: true });
    expect(peer.accepted()).toBeGreaterThan(before);
  }, 10_000);

  it('SMTP: a relay that never greets fails the send as retryable within the timeout', async () => {
    const before = peer.accepted();
    // Loosely typed so that a copy of this suite still compiles against a mailer without the parameter.
    const Mailer = SmtpMailer as unknown as new (url: string, from: string, timeoutMs: number) => SmtpMailer;
    const mailer = new Mailer(`smtp://${peer.address}`, 'no-reply@collectverything.com', 300);
    try {
      const failure = await mailer
        .send({
          messageId: '<silent@collectverything.com>',
          to: 'owner@example.com',
          subject: 'Bienvenue',
          text: 'Bonjour',
          html: '<p>Bonjour</p>',
        })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(MailerError);
      expect(failure).toMatchObject({ retryable: true });
      expect(peer.accepted()).toBeGreaterThan(before);
    } finally {
      await mailer.close();
    }
  }, 10_000);
});
