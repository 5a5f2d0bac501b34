import { localCredential } from '@app/platform';
import { SECRET_STORE_ENV } from '@app/secrets';
import { z } from 'zod';

export const configSchema = z.object({
  /** Management API used to provision (the spec's rabbitmq...:15672). */
  RABBITMQ_MANAGEMENT_URL: z.string().url().default('http://127.0.0.1:15672'),
  RABBITMQ_ADMIN_USER: localCredential(z.string().min(1), 'guest'),
  RABBITMQ_ADMIN_PASSWORD: localCredential(z.string().min(1), 'guest'),
  RABBITMQ_MANAGEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** Attempts per management request on 5xx / timeouts / refused connections (PUT/DELETE are idempotent). */
  RABBITMQ_MANAGEMENT_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  RABBITMQ_MANAGEMENT_BACKOFF_MS: z.coerce.number().int().min(0).default(250),
  /** AMQP address this service uses to verify tenant access (no credentials, no vhost). */
  RABBITMQ_AMQP_URL: z
    .string()
    .regex(/^amqps?:\/\/[^@/]+$/, 'amqp://host:port without credentials')
    .default('amqp://127.0.0.1:5672'),
  /** What goes into the tenant's secret (spec 5.3): the in-cluster address its pods use. */
  BROKER_SECRET_HOST: z.string().min(1).default('rabbitmq.e-commerce-shared.svc.cluster.local'),
  BROKER_SECRET_PORT: z.coerce.number().int().min(1).max(65535).default(5672),
  /** A vhost the tenant user must be refused on during verification (the default vhost always exists). */
  BROKER_FOREIGN_VHOST: z.string().min(1).default('/'),
  ...SECRET_STORE_ENV,
});

export type BrokerConfig = z.infer<typeof configSchema>;
