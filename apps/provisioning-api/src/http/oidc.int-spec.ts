import { createHmac } from 'node:crypto';
import { OPERATOR_NAME_PATTERN } from '@app/tenancy';
import { TestOidcProvider } from '../testing/oidc-provider.test-helpers';
import { OidcUnavailableError, OidcVerifier, type OidcSettings } from './oidc';

/** OidcVerifier against a real HTTP OpenID Connect provider (discovery, JWKS, RS256 keys, rotation). */
describe('OidcVerifier', () => {
  const provider = new TestOidcProvider();
  let settings: OidcSettings;

  beforeAll(async () => {
    const issuer = await provider.start();
    settings = {
      issuer,
      audience: 'provisioning-api',
      rolesClaim: 'roles',
      operatorRoles: ['provisioning-operator'],
      auditorRoles: ['provisioning-auditor'],
      nameClaim: 'preferred_username',
    };
  });

  afterAll(() => provider.stop());

  const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('names operators and auditors from the roles claim, operators first', async () => {
    const verifier = new OidcVerifier(settings);
    const operator = await provider.token({ roles: ['provisioning-operator'], preferred_username: 'alice' });
    expect(await verifier.principal(operator)).toEqual({ name: 'oidc:alice', role: 'operator' });
    const both = await provider.token({ roles: ['provisioning-auditor', 'provisioning-operator'] });
    expect(await verifier.principal(both)).toEqual({ name: 'oidc:user-1', role: 'operator' });
    const auditor = await provider.token({ roles: 'provisioning-auditor', preferred_username: 'audrey' });
    expect(await verifier.principal(auditor)).toEqual({ name: 'oidc:audrey', role: 'auditor' });
    expect(await verifier.principal(await provider.token({ roles: ['billing'] }))).toBeUndefined();
    expect(await verifier.principal(await provider.token({}))).toBeUndefined();
  });

  it('gives names that pass the operator name rule: e-mail addresses kept, other characters replaced, cut to 64', async () => {
    const verifier = new OidcVerifier(settings);
    const nameOf = async (claim: string) =>
      (
        await verifier.principal(
          await provider.token({ roles: ['provisioning-operator'], preferred_username: claim }),
        )
      )?.name;
    const names = [
      await nameOf('olivia@example.com'),
      await nameOf('Olivia Smith/ops:1'),
      await nameOf('x'.repeat(128)),
    ];
    expect(names).toEqual(['oidc:olivia@example.com', 'oidc:Olivia_Smith_ops_1', `oidc:${'x'.repeat(64)}`]);
    for (const name of names) expect(name).toMatch(OPERATOR_NAME_PATTERN);
  });

  it('reads a nested roles claim (Keycloak realm_access.roles)', async () => {
    const verifier = new OidcVerifier({ ...settings, rolesClaim: 'realm_access.roles' });
    const token = await provider.token({ realm_access: { roles: ['provisioning-auditor'] } });
    expect((await verifier.principal(token))?.role).toBe('auditor');
  });

  it('refuses tokens for another audience or issuer, expired, or signed with an unpublished key', async () => {
    const verifier = new OidcVerifier(settings);
    const claims = { roles: ['provisioning-operator'] };
    for (const token of [
      await provider.token(claims, { audience: 'another-client' }),
      await provider.token(claims, { issuer: 'https://attacker.example' }),
      await provider.token(claims, { expiresIn: Math.floor(Date.now() / 1000) - 120 }),
      await provider.token(claims, { unpublishedKey: true }),
    ]) {
      expect(await verifier.principal(token)).toBeUndefined();
    }
  });

  it('refuses unsigned and shared-secret tokens whatever they claim', async () => {
    const verifier = new OidcVerifier(settings);
    const payload = {
      iss: settings.issuer,
      aud: 'provisioning-api',
      sub: 'mallory',
      exp: Math.floor(Date.now() / 1000) + 300,
      roles: ['provisioning-operator'],
    };
    const unsigned = `${base64url({ alg: 'none' })}.${base64url(payload)}.`;
    expect(await verifier.principal(unsigned)).toBeUndefined();
    const head = `${base64url({ alg: 'HS256', kid: 'key-1' })}.${base64url(payload)}`;
    const hmac = createHmac('sha256', 'guessed').update(head).digest('base64url');
    expect(await verifier.principal(`${head}.${hmac}`)).toBeUndefined();
    expect(await verifier.principal('not-a-jwt')).toBeUndefined();
  });

  it('follows a key rotation of the provider, fetching its keys again only for an unknown key id', async () => {
    const verifier = new OidcVerifier({ ...settings, jwksCooldownMs: 0 });
    const before = provider.jwksRequests;
    expect(await verifier.principal(await provider.token({ roles: ['provisioning-auditor'] }))).toBeDefined();
    expect(await verifier.principal(await provider.token({ roles: ['provisioning-auditor'] }))).toBeDefined();
    expect(provider.jwksRequests - before).toBe(1);
    await provider.rotate('key-2');
    const rotated = await provider.token({ roles: ['provisioning-auditor'] });
    expect((await verifier.principal(rotated))?.role).toBe('auditor');
    expect(provider.jwksRequests - before).toBe(2);
  });

  it('reports a provider whose discovery fails or describes another issuer as unavailable', async () => {
    const token = await provider.token({ roles: ['provisioning-operator'] });
    const down = new OidcVerifier({ ...settings, issuer: 'http://127.0.0.1:1' });
    await expect(down.principal(token)).rejects.toBeInstanceOf(OidcUnavailableError);
    const foreign = new OidcVerifier(settings, async () => ({
      issuer: 'https://other.example',
      jwks_uri: `${settings.issuer}/jwks`,
    }));
    await expect(foreign.principal(token)).rejects.toBeInstanceOf(OidcUnavailableError);
  });

  it('reports a key set that cannot be fetched as unavailable, not as a bad token', async () => {
    const token = await provider.token({ roles: ['provisioning-operator'] });
    const unreachable = new OidcVerifier({ ...settings, jwksUrl: 'http://127.0.0.1:1/jwks' });
    await expect(unreachable.principal(token)).rejects.toBeInstanceOf(OidcUnavailableError);
    const failing = new OidcVerifier({ ...settings, jwksUrl: `${settings.issuer}/no-such-jwks` });
    await expect(failing.principal(token)).rejects.toBeInstanceOf(OidcUnavailableError);
    // A token whose header is not JSON stays the caller's problem (a key the set lacks: the test above).
    const notJson = Buffer.from('not json').toString('base64url');
    await expect(new OidcVerifier(settings).principal(`${notJson}.e30.c2ln`)).resolves.toBeUndefined();
  });
});
