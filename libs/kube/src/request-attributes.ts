/**
 * The authorization attributes the Kubernetes API server derives from a request before RBAC sees it, as
 * `RequestInfoFactory.NewRequestInfo` does (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go):
 * - `/api/{version}/...` (no group) and `/apis/{group}/{version}/...` are resource requests; shorter paths
 *   (`/api`, `/api/v1`, `/apis/apps/v1`: discovery) are non-resource requests authorized by path;
 * - the verb comes from the HTTP method (POST create, GET/HEAD get, PUT update, PATCH patch, DELETE delete) or
 *   from the deprecated `/watch/` path prefix; a GET without a name is `list`, or `watch` when the `watch`
 *   query parameter is anything but `false`/`0`; a DELETE without a name is `deletecollection`;
 * - `/namespaces/{ns}/{resource}/...` sets the namespace; `/namespaces/{ns}` and its `status`/`finalize`
 *   subresources are the namespace object itself, which also counts as being in namespace `{ns}`;
 * - a list or watch whose `fieldSelector` pins `metadata.name=<name>` carries that name.
 */
export interface AuthorizationAttributes {
  /** The bearer token the request carried (the double's stand-in for an authenticated user). */
  user: string;
  /** false: a non-resource request (discovery), authorized by `nonResourceURLs`. */
  resourceRequest: boolean;
  verb: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  path: string;
}

/** Who a request is from when it carries no bearer token. */
export const ANONYMOUS = 'system:anonymous';

const API_PREFIXES = new Set(['api', 'apis']);
const GROUPLESS_API_PREFIXES = new Set(['api']);
const SPECIAL_VERBS = new Set(['proxy', 'watch']);
const SPECIAL_VERBS_NO_SUBRESOURCES = new Set(['proxy']);
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
/** What `path.IsValidPathSegmentName` refuses: a name from a field selector must be usable as a path segment. */
const INVALID_PATH_SEGMENT = /^\.\.?$|[/%]/;

function methodVerb(method: string): string {
  switch (method.toUpperCase()) {
    case 'POST':
      return 'create';
    case 'GET':
    case 'HEAD':
      return 'get';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return '';
  }
}

/** `metadata.name=<x>` (or `==`) as one term of a field selector, the only form that pins a name. */
function exactName(fieldSelector: string | null): string | undefined {
  if (!fieldSelector) return undefined;
  const names = fieldSelector
    .split(',')
    .map((term) => /^metadata\.name(?:==|=)(.*)$/.exec(term.trim())?.[1])
    .filter((name): name is string => name !== undefined);
  return names.length === 1 ? names[0] : undefined;
}

export function requestAttributes(
  method: string,
  url: URL,
  user: string = ANONYMOUS,
): AuthorizationAttributes {
  const info: AuthorizationAttributes = {
    user,
    resourceRequest: false,
    verb: method.toLowerCase(),
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
    path: url.pathname,
  };
  let parts = url.pathname.split('/').filter(Boolean);
  if (parts.length < 3 || !API_PREFIXES.has(parts[0])) return info;
  const prefix = parts[0];
  parts = parts.slice(1);
  if (!GROUPLESS_API_PREFIXES.has(prefix)) {
    if (parts.length < 3) return info;
    info.apiGroup = parts[0];
    parts = parts.slice(1);
  }
  info.resourceRequest = true;
  info.apiVersion = parts[0];
  parts = parts.slice(1);
  if (SPECIAL_VERBS.has(parts[0])) {
    if (parts.length < 2) return info;
    info.verb = parts[0];
    parts = parts.slice(1);
  } else {
    info.verb = methodVerb(method);
  }
  if (parts[0] === 'namespaces' && parts.length > 1) {
    info.namespace = parts[1];
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2])) parts = parts.slice(2);
  }
  if (parts.length >= 3 && !SPECIAL_VERBS_NO_SUBRESOURCES.has(info.verb)) info.subresource = parts[2];
  if (parts.length >= 2) info.name = parts[1];
  if (parts.length >= 1) info.resource = parts[0];
  if (info.name === '' && info.verb === 'get') {
    const watch = url.searchParams.get('watch');
    info.verb = watch !== null && !['false', '0'].includes(watch.toLowerCase()) ? 'watch' : 'list';
    const name = exactName(url.searchParams.get('fieldSelector'));
    if (name && !INVALID_PATH_SEGMENT.test(name)) info.name = name;
  }
  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';
  return info;
}
