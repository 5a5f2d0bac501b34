import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Principal } from './auth';

/** Settings of the OpenID Connect provider whose access tokens the API accepts (see `configSchema`). */
export interface OidcSettings {
  /** The `iss` every token must carry; discovery reads `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  /** The `aud` every token must carry (this API's client id or resource). */
  audience: string;
  /** The JWKS address; from discovery when absent. */
  jwksUrl?: string;
  /** Dot path of the claim listing the caller's roles or groups (`roles`, `realm_access.roles`, `groups`). */
  rolesClaim: string;
  operatorRoles: readonly string[];
  auditorRoles: readonly string[];
  /** Claim naming the caller in logs and events (falls back to `sub`). */
  nameClaim: string;
  /** Least time between two JWKS fetches for an unknown key id (jose's default: 30 s). */
  jwksCooldownMs?: number;
}

/** Asymmetric signatures only: a shared-secret (HS*) or unsigned token must never pass for the provider's. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const CLOCK_TOLERANCE_SECONDS = 30;

/** Three base64url segments: what a JWS compact token looks like (static tokens are compared first anyway). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

/**
 * Verifies access tokens of an OpenID Connect provider with `jose` (signature against the provider's JWKS,
 * fetched and cached by `createRemoteJWKSet`, which also follows key rotation; issuer, audience, expiry) and
 * maps the roles claim to this API's roles. Operators win over auditors when a token carries both.
 */
export class OidcVerifier {
  private keys?: Promise<ReturnType<typeof createRemoteJWKSet>>;

  constructor(
    private readonly settings: OidcSettings,
    private readonly fetchJson: (url: string) => Promise<unknown> = defaultFetchJson,
  ) {}

  /** The caller a valid token names, or undefined (bad, expired, foreign or role-less token). */
  async principal(token: string): Promise<Principal | undefined> {
    if (!looksLikeJwt(token)) return undefined;
    // Refused before any key lookup: a malformed header or an unexpected algorithm never reaches the JWKS.
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return undefined;
    }
    if (!ALGORITHMS.includes(String(alg))) return undefined;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.jwks(), {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      if (error instanceof OidcUnavailableError) throw error;
      if (isKeySetFailure(error)) {
        throw new OidcUnavailableError('the OIDC provider’s signing keys (JWKS) could not be fetched', {
          cause: error,
        });
      }
      return undefined;
    }
    const roles = rolesOf(claimAt(payload, this.settings.rolesClaim));
    const role = roles.some((r) => this.settings.operatorRoles.includes(r))
      ? 'operator'
      : roles.some((r) => this.settings.auditorRoles.includes(r))
        ? 'auditor'
        : undefined;
    if (!role) return undefined;
    // Recorded as the operator of the actions it takes: kept within the operator name rule of
    // `OPERATOR_NAME_PATTERN` (other characters become `_`, the claim is cut to 64).
    const named = claimAt(payload, this.settings.nameClaim);
    const name = typeof named === 'string' && named.length > 0 ? named : String(payload.sub);
    return { name: `oidc:${name.replace(/[^A-Za-z0-9_.@-]/g, '_').slice(0, 64)}`, role };
  }

  private jwks(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    this.keys ??= this.discoverJwksUrl()
      .then((url) =>
        createRemoteJWKSet(new URL(url), {
          ...(this.settings.jwksCooldownMs !== undefined
            ? { cooldownDuration: this.settings.jwksCooldownMs }
            : {}),
        }),
      )
      .catch((error: unknown) => {
        this.keys = undefined;
        throw error;
      });
    return this.keys;
  }

  private async discoverJwksUrl(): Promise<string> {
    if (this.settings.jwksUrl) return this.settings.jwksUrl;
    const address = `${this.settings.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let document: unknown;
    try {
      document = await this.fetchJson(address);
    } catch (error) {
      throw new OidcUnavailableError(`OIDC discovery at ${address} failed`, { cause: error });
    }
    const { issuer, jwks_uri: jwksUri } = (document ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
    // The discovery document must be the configured issuer's own (OpenID Connect Discovery 1.0, section 4.3).
    if (issuer !== this.settings.issuer || typeof jwksUri !== 'string') {
      throw new OidcUnavailableError(
        `OIDC discovery at ${address} does not describe ${this.settings.issuer}`,
      );
    }
    return jwksUri;
  }
}

/** The provider cannot be asked (discovery or its key set failed): a 503, not the caller's fault. */
export class OidcUnavailableError extends Error {}

/**
 * The key set could not be had (timeout, an answer other than 200, not a key set, a network error), as
 * opposed to a token that fails on its own (no matching key, bad signature or claims): jose reports the former
 * with these classes, its generic error, or no JOSEError at all.
 */
function isKeySetFailure(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true;
  if (!(error instanceof errors.JOSEError)) return true;
  return error.code === errors.JOSEError.code;
}

function claimAt(payload: JWTPayload, path: string): unknown {
  let value: unknown = payload;
  for (const key of path.split('.')) {
    if (!value || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function rolesOf(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

async function defaultFetchJson(url: string): Promise<unknown> {
  const response = await fetch(url, {
    signal: AbortSignal.timeout(5000),
    headers: { accept: 'application/json' },
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}
