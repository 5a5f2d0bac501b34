import {
  brokerPermissionsFor,
  type AppBrokerPermissions,
  type BrokerPermissionOptions,
  type ControlPlaneApp,
} from './broker-permissions';
import { MessagingError } from '@app/messaging';
import type { RabbitManagementClient } from './client';

/** The account one app connects with, as its AMQP_URL names it. */
export interface BrokerAccount {
  app: ControlPlaneApp;
  user: string;
  password: string;
  vhost: string;
}

export interface AppliedBrokerUser extends AppBrokerPermissions {
  user: string;
  vhost: string;
}

/** The management calls applying accounts needs (RabbitManagementClient). */
export type BrokerUserAdmin = Pick<
  RabbitManagementClient,
  'createVhost' | 'putUser' | 'setPermissions' | 'deleteTopicPermissions' | 'setTopicPermissions'
>;

/**
 * The account an AMQP URL names: user, password (percent-decoded) and vhost (`/` when the path is empty).
 * Errors name the app, never the URL (it holds the password).
 */
export function brokerAccountFromUrl(app: ControlPlaneApp, url: string): BrokerAccount {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MessagingError('MESSAGING.INVALID_OPTIONS', `the AMQP URL of ${app} is not a URL`, { app });
  }
  if (!/^amqps?:$/.test(parsed.protocol) || !parsed.username || !parsed.password) {
    throw new MessagingError(
      'MESSAGING.INVALID_OPTIONS',
      `the AMQP URL of ${app} must be amqp(s)://user:password@host[:port][/vhost]`,
      { app },
    );
  }
  const path = parsed.pathname.replace(/^\//, '');
  return {
    app,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    vhost: path === '' ? '/' : decodeURIComponent(path),
  };
}

/**
 * Creates or updates each account (PUT semantics: running it again converges, and changes a password), with
 * no management tags and exactly its app's permissions on its vhost; earlier topic permissions are replaced.
 * Accounts must be distinct: two apps sharing one account would hold the union of their permissions.
 */
export async function applyBrokerUsers(
  admin: BrokerUserAdmin,
  accounts: readonly BrokerAccount[],
  options: BrokerPermissionOptions = {},
): Promise<AppliedBrokerUser[]> {
  const seen = new Map<string, ControlPlaneApp>();
  for (const account of accounts) {
    const other = seen.get(account.user);
    if (other !== undefined) {
      throw new MessagingError(
        'MESSAGING.INVALID_OPTIONS',
        `${other} and ${account.app} use the same broker user "${account.user}": each app needs its own`,
        { app: account.app },
      );
    }
    seen.set(account.user, account.app);
  }
  const applied: AppliedBrokerUser[] = [];
  const vhosts = new Set(accounts.map((account) => account.vhost));
  for (const vhost of vhosts) await admin.createVhost(vhost);
  for (const account of accounts) {
    const permissions = brokerPermissionsFor(account.app, options);
    await admin.putUser(account.user, account.password, []);
    await admin.setPermissions(account.vhost, account.user, permissions);
    await admin.deleteTopicPermissions(account.vhost, account.user);
    for (const topic of permissions.topic) {
      await admin.setTopicPermissions(account.vhost, account.user, topic);
    }
    applied.push({ ...permissions, user: account.user, vhost: account.vhost });
  }
  return applied;
}
