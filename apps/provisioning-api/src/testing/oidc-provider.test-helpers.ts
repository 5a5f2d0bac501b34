import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

/**
 * A minimal OpenID Connect provider for tests, over real HTTP: discovery document and JWKS, RS256 keys that
 * can be rotated, and access tokens signed with them (or with a key it does not publish).
 */
export class TestOidcProvider {
  private server?: Server;
  private keys: SigningKey[] = [];
  issuer = '';
  jwksRequests = 0;

  async start(): Promise<string> {
    this.keys = [await this.newKey('key-1')];
    this.server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') {
        res.end(JSON.stringify({ issuer: this.issuer, jwks_uri: `${this.issuer}/jwks` }));
      } else if (req.url === '/jwks') {
        this.jwksRequests += 1;
        res.end(JSON.stringify({ keys: this.keys.map((key) => key.jwk) }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.issuer;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Publishes a new key only (the old one leaves the JWKS): later tokens are signed with it. */
  async rotate(kid: string): Promise<void> {
    this.keys = [await this.newKey(kid)];
  }

  /** An access token: `claims` over sensible defaults (this issuer, 5 minutes, subject `user-1`). */
  async token(
    claims: JWTPayload & Record<string, unknown>,
    options: {
      audience?: string;
      issuer?: string;
      expiresIn?: string | number;
      unpublishedKey?: boolean;
    } = {},
  ): Promise<string> {
    const key = options.unpublishedKey ? await this.newKey('not-published') : this.keys[0];
    return new SignJWT({ sub: 'user-1', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'at+jwt' })
      .setIssuer(options.issuer ?? this.issuer)
      .setAudience(options.audience ?? 'provisioning-api')
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '5m')
      .sign(key.privateKey);
  }

  private async newKey(kid: string): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
  }
}
