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

/** SMTP through nodemailer. A 5xx reply (recipient refused) is permanent; anything else may be retried. */
export class SmtpMailer implements MailerPort {
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    this.transport = createTransport(smtpUrl);
  }

  async send(email: OutgoingEmail): Promise<void> {
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
