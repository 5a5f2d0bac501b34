import { baseConfigSchema, loadConfig } from '@app/platform';
import { TENANT_RENDER_ENV } from '@app/plans';
import { logLevel, TENANCY_ENV } from '@app/tenancy';
import { z } from 'zod';

/** `name:token` pairs; names identify the caller in logs (the token never does). */
export interface NamedToken {
  name: string;
  token: string;
}

const MIN_SECRET_LENGTH = 16;

const tokenList = (variable: string) =>
  z
    .string()
    .optional()
    .transform((raw, ctx): NamedToken[] => {
      const entries = (raw ?? '')
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry.length > 0);
      const tokens: NamedToken[] = [];
      for (const entry of entries) {
        const colon = entry.indexOf(':');
        const name = colon > 0 ? entry.slice(0, colon) : '';
        const token = colon > 0 ? entry.slice(colon + 1) : '';
        // The message names the entry by position only: the value may be a secret.
        if (!/^[a-zA-Z0-9_.-]{1,64}$/.test(name) || token.length < MIN_SECRET_LENGTH) {
          ctx.addIssue({
            code: 'custom',
            message: `${variable} entry #${tokens.length + 1} must be name:token with a token of at least ${MIN_SECRET_LENGTH} characters`,
          });
          return z.NEVER;
        }
        tokens.push({ name, token });
      }
      return tokens;
    });

const secret = z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`);

const intFrom = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const nameList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((raw) =>
      raw
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry.length > 0),
    );

/** The variables, without the cross-field rules (`pick` them from here: zod refuses to pick from a refined schema). */
export const configFields = z.object({
  PORT: intFrom(3000, 0, 65535),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: logLevel.default('info'),
  /** The event store, the read model and the grace period, read alike by tenantctl. */
  ...TENANCY_ENV,
  /** The k8s-service's render variables (IMAGE_*, NETWORK_POLICY_*...): what-if plans render with them. */
  ...TENANT_RENDER_ENV,
  /** Shared with every process (libs/platform). */
  EVENTSTORE_POOL_SIZE: baseConfigSchema.shape.EVENTSTORE_POOL_SIZE,
  STARTUP_TIMEOUT_SECONDS: baseConfigSchema.shape.STARTUP_TIMEOUT_SECONDS,
  /** Bounds of every PostgreSQL wait of this process (event store and read model), and of its shutdown. */
  EVENTSTORE_CONNECT_TIMEOUT_MS: baseConfigSchema.shape.EVENTSTORE_CONNECT_TIMEOUT_MS,
  EVENTSTORE_STATEMENT_TIMEOUT_MS: baseConfigSchema.shape.EVENTSTORE_STATEMENT_TIMEOUT_MS,
  SHUTDOWN_TIMEOUT_SECONDS: baseConfigSchema.shape.SHUTDOWN_TIMEOUT_SECONDS,
  READ_MODEL_POOL_SIZE: intFrom(5, 1, 100),
  /** `production` makes signatures required by default, and a token on /metrics and /api/docs. */
  NODE_ENV: z.string().optional(),
  /** HMAC key of signed webhooks (`X-Signature`, `Stripe-Signature`); never accepted as a bearer token. */
  WEBHOOK_SIGNING_SECRET: secret.optional(),
  /** Deprecated name of WEBHOOK_SIGNING_SECRET, still read so existing deployments start (with a warning). */
  WEBHOOK_SECRET: secret.optional(),
  /** The bearer form's secret (spec 1.1); unset, the bearer form is refused. */
  WEBHOOK_BEARER_SECRET: secret.optional(),
  /** Refuses the bearer form even when WEBHOOK_BEARER_SECRET is set; defaults to true under production. */
  WEBHOOK_REQUIRE_SIGNATURE: z.enum(['true', 'false', '1', '0', 'yes', 'no']).optional(),
  WEBHOOK_SIGNATURE_TOLERANCE_SECONDS: intFrom(300, 1, 3600),
  OPERATOR_TOKENS: tokenList('OPERATOR_TOKENS'),
  AUDITOR_TOKENS: tokenList('AUDITOR_TOKENS'),
  /**
   * When set, /metrics requires `Authorization: Bearer <METRICS_TOKEN>`; otherwise it is public. Required under
   * production, where /api/docs takes it too (or an operator or auditor token).
   */
  METRICS_TOKEN: secret.optional(),
  BODY_LIMIT_BYTES: intFrom(1024 * 1024, 1024, 50 * 1024 * 1024),
  /**
   * OpenID Connect: when set, `Authorization: Bearer <access token>` from this issuer is accepted besides the
   * static tokens, its roles claim deciding operator or auditor (README, "Authentication").
   */
  OIDC_ISSUER: z.string().url().optional(),
  OIDC_AUDIENCE: z.string().min(1).optional(),
  /** JWKS address; read from the issuer's discovery document when absent. */
  OIDC_JWKS_URL: z.string().url().optional(),
  OIDC_ROLES_CLAIM: z
    .string()
    .regex(/^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/)
    .default('roles'),
  OIDC_OPERATOR_ROLES: nameList('provisioning-operator'),
  OIDC_AUDITOR_ROLES: nameList('provisioning-auditor'),
  OIDC_NAME_CLAIM: z.string().min(1).default('preferred_username'),
});

export const configSchema = configFields
  .superRefine((config, ctx) => {
    if (config.OIDC_ISSUER && !config.OIDC_AUDIENCE) {
      ctx.addIssue({
        code: 'custom',
        path: ['OIDC_AUDIENCE'],
        message: 'is required with OIDC_ISSUER (a token for another client must not be accepted)',
      });
    }
    const signing = config.WEBHOOK_SIGNING_SECRET ?? config.WEBHOOK_SECRET;
    if (signing === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['WEBHOOK_SIGNING_SECRET'],
        message: 'is required (WEBHOOK_SECRET, its deprecated name, is read too)',
      });
    }
    if (
      config.WEBHOOK_SIGNING_SECRET !== undefined &&
      config.WEBHOOK_SECRET !== undefined &&
      config.WEBHOOK_SIGNING_SECRET !== config.WEBHOOK_SECRET
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['WEBHOOK_SECRET'],
        message: 'differs from WEBHOOK_SIGNING_SECRET, which replaces it: unset WEBHOOK_SECRET',
      });
    }
    if (config.WEBHOOK_BEARER_SECRET !== undefined && config.WEBHOOK_BEARER_SECRET === signing) {
      ctx.addIssue({
        code: 'custom',
        path: ['WEBHOOK_BEARER_SECRET'],
        message: 'must differ from the signing secret (a bearer token travels in every request)',
      });
    }
    if (config.NODE_ENV === 'production' && config.METRICS_TOKEN === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['METRICS_TOKEN'],
        message: 'is required under NODE_ENV=production (it guards /metrics and /api/docs)',
      });
    }
  })
  .transform((config) => ({
    ...config,
    WEBHOOK_SIGNING_SECRET: (config.WEBHOOK_SIGNING_SECRET ?? config.WEBHOOK_SECRET) as string,
    /** Whether the deprecated WEBHOOK_SECRET supplied the signing secret (a start-up warning says so). */
    webhookSecretDeprecated: config.WEBHOOK_SIGNING_SECRET === undefined,
    WEBHOOK_REQUIRE_SIGNATURE:
      config.WEBHOOK_REQUIRE_SIGNATURE === undefined
        ? config.NODE_ENV === 'production'
        : ['true', '1', 'yes'].includes(config.WEBHOOK_REQUIRE_SIGNATURE),
  }));

export type ProvisioningApiConfig = z.infer<typeof configSchema>;

/** Reads and validates the environment once; throws `ConfigError` naming each bad variable. */
export function loadProvisioningApiConfig(env: NodeJS.ProcessEnv = process.env): ProvisioningApiConfig {
  return loadConfig(configSchema, env);
}
