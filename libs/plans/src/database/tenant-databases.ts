import {
  BUSINESS_SERVICES,
  databaseName,
  databaseSecretPath,
  databaseUserName,
  type BusinessService,
} from '@app/contracts';

export interface ServiceDatabase {
  service: BusinessService;
  database: string;
  user: string;
  secretPath: string;
}

/** The eleven databases of spec 3.1 with their users and secret paths; throws ContractError on a bad id. */
export function tenantDatabases(tenantId: string): ServiceDatabase[] {
  return BUSINESS_SERVICES.map((service) => ({
    service,
    database: databaseName(tenantId, service),
    user: databaseUserName(tenantId, service),
    secretPath: databaseSecretPath(tenantId, service),
  }));
}

/** Keys of the credentials secret (spec 3.3 `property` names). */
export interface DatabaseCredentials {
  host: string;
  port: string;
  database: string;
  username: string;
  password: string;
  [key: string]: string;
}
