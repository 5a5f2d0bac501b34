import { retryable, StepError, withClientSpan } from '@app/platform';
import { createTransport, type Transporter } from 'nodemailer';

export interface OutgoingEmail {
  messageId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface MailerPort {
  send(email: OutgoingEmail): Promise<void>;
  verify(): Promise<boolean>;
  close(): Promise<void>;
}

export class MailerError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly responseCode?: number,
  ) {
    super(message);
    this.name = 'MailerError';
  }
}

/**
 * The one classification of a failed send, for every notice: a `MailerError` keeps its retryability (an SMTP
 * 5xx reply is permanent, anything else transient) under `code`, the notice's own failure code; anything else
 * a `MailerPort` throws is transient. Messages carry at most the SMTP reply code: the server's text may echo
 * the recipient.
 */
export function smtpStepError(error: unknown, code: string): StepError {
  if (error instanceof StepError) return error;
  if (error instanceof MailerError) {
    return new StepError(code, error.message, { retryable: error.retryable, cause: error });
  }
  return retryable(code, 'SMTP send failed', error);
}

export const DEFAULT_SMTP_TIMEOUT_MS = 30_000;

/** SMTP through nodemailer. A 5xx reply (recipient refused) is permanent; anything else may be retried. */
export class SmtpMailer implements MailerPort {
  private readonly transport: Transporter;
  /** The relay as each send's span names it: host and port only, never the URL's credentials. */
  private readonly spanAttributes: Record<string, string | number>;

  /**
   * `timeoutMs` bounds the TCP connect, the server's greeting and every later silence on the socket (nodemailer's
   * own defaults are 2 min, 30 s and 10 min): a hung relay fails the send, retryably, well inside the handler
   * deadline.
   */
  constructor(
    smtpUrl: string,
    private readonly from: string,
    timeoutMs = DEFAULT_SMTP_TIMEOUT_MS,
  ) {
    this.transport = createTransport({
      url: smtpUrl,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
    this.spanAttributes = smtpSpanAttributes(smtpUrl);
  }

  /** One CLIENT span per message (no instrumentation covers SMTP). */
  send(email: OutgoingEmail): Promise<void> {
    return withClientSpan('smtp send', this.spanAttributes, () => this.sendMail(email));
  }

  private async sendMail(email: OutgoingEmail): Promise<void> {
    try {
      await this.transport.sendMail({
        from: this.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
        headers: { 'Content-Language': 'fr' },
      });
    } catch (error) {
      const code =
        error &&
        typeof error === 'object' &&
        'responseCode' in error &&
        typeof error.responseCode === 'number'
          ? error.responseCode
          : undefined;
      // Only the SMTP reply code goes into the message: the server's text may echo the recipient.
      throw new MailerError(`SMTP send failed${code ? ` (${code})` : ''}`, !(code && code >= 500), code);
    }
  }

  async verify(): Promise<boolean> {
    try {
      return await this.transport.verify();
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** `server.address`/`server.port` of the SMTP URL (the default port of its scheme when it names none). */
function smtpSpanAttributes(smtpUrl: string): Record<string, string | number> {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    return { 'network.protocol.name': 'smtp' };
  }
  const port = url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587;
  return { 'network.protocol.name': 'smtp', 'server.address': url.hostname, 'server.port': port };
}
