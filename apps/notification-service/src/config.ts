import { localCredential } from '@app/platform';
import { SECRET_STORE_ENV } from '@app/secrets';
import { z } from 'zod';

export const configSchema = z.object({
  /** smtp://user:pass@host:port or smtps://... (nodemailer URL). */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//)
    .default('smtp://127.0.0.1:1025'),
  /** Bound on the SMTP connect, greeting and each later silence of the relay. */
  SMTP_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  MAIL_FROM: z.string().min(3).default('Collect & Verything <no-reply@collectverything.com>'),
  /** Domain of the deterministic Message-IDs (dedupe of redelivered commands). */
  MAIL_MESSAGE_ID_DOMAIN: z
    .string()
    .regex(/^[a-z0-9.-]+$/)
    .default('collectverything.com'),
  WEBSITES_API_URL: z.url().default('http://127.0.0.1:8085'),
  /** Internal service token for the websites-service (spec 9.1 `Authorization: Bearer`). */
  WEBSITES_API_TOKEN: localCredential(z.string().min(8), 'local-internal-service-token'),
  WEBSITES_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  WEBSITES_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(4),
  WEBSITES_BACKOFF_MS: z.coerce.number().int().min(0).default(250),
  ...SECRET_STORE_ENV,
});

export type NotificationConfig = z.infer<typeof configSchema>;
