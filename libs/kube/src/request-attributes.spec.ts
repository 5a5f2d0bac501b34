import { requestAttributes } from './request-attributes';

const at = (method: string, path: string) => {
  const { verb, apiGroup, resource, subresource, namespace, name, resourceRequest } = requestAttributes(
    method,
    new URL(path, 'http://api'),
    'u',
  );
  return { verb, apiGroup, resource, subresource, namespace, name, resourceRequest };
};

describe('requestAttributes (the API server RequestInfoFactory)', () => {
  it.each([
    ['POST', '/api/v1/namespaces/ns/secrets', 'create', '', 'secrets', '', 'ns', ''],
    ['GET', '/api/v1/namespaces/ns/secrets/s1', 'get', '', 'secrets', '', 'ns', 's1'],
    ['HEAD', '/api/v1/namespaces/ns/secrets/s1', 'get', '', 'secrets', '', 'ns', 's1'],
    ['PUT', '/api/v1/namespaces/ns/secrets/s1', 'update', '', 'secrets', '', 'ns', 's1'],
    ['PATCH', '/apis/apps/v1/namespaces/ns/deployments/d', 'patch', 'apps', 'deployments', '', 'ns', 'd'],
    ['DELETE', '/apis/batch/v1/namespaces/ns/jobs/j', 'delete', 'batch', 'jobs', '', 'ns', 'j'],
    ['DELETE', '/apis/batch/v1/namespaces/ns/jobs', 'deletecollection', 'batch', 'jobs', '', 'ns', ''],
    ['GET', '/apis/apps/v1/namespaces/ns/deployments', 'list', 'apps', 'deployments', '', 'ns', ''],
    ['GET', '/apis/apps/v1/deployments', 'list', 'apps', 'deployments', '', '', ''],
    ['GET', '/api/v1/pods?watch=true', 'watch', '', 'pods', '', '', ''],
    ['GET', '/api/v1/pods?watch=1', 'watch', '', 'pods', '', '', ''],
    ['GET', '/api/v1/pods?watch=', 'watch', '', 'pods', '', '', ''],
    ['GET', '/api/v1/pods?watch=false', 'list', '', 'pods', '', '', ''],
    ['GET', '/api/v1/pods?watch=0', 'list', '', 'pods', '', '', ''],
    // The deprecated verb-in-path form.
    ['GET', '/api/v1/watch/namespaces/ns/pods', 'watch', '', 'pods', '', 'ns', ''],
    ['GET', '/api/v1/watch/namespaces/ns/pods/p', 'watch', '', 'pods', '', 'ns', 'p'],
    // A field selector pinning the name makes a list carry it.
    ['GET', '/api/v1/namespaces/ns/pods?fieldSelector=metadata.name%3Dp', 'list', '', 'pods', '', 'ns', 'p'],
    ['GET', '/api/v1/pods?watch=1&fieldSelector=metadata.name%3D%3Dp', 'watch', '', 'pods', '', '', 'p'],
    ['GET', '/api/v1/pods?fieldSelector=status.phase%3DRunning', 'list', '', 'pods', '', '', ''],
    // Namespaces: the object itself is "in" its own namespace; status and finalize are its subresources.
    ['GET', '/api/v1/namespaces', 'list', '', 'namespaces', '', '', ''],
    ['GET', '/api/v1/namespaces/ns', 'get', '', 'namespaces', '', 'ns', 'ns'],
    ['DELETE', '/api/v1/namespaces/ns', 'delete', '', 'namespaces', '', 'ns', 'ns'],
    ['PUT', '/api/v1/namespaces/ns/finalize', 'update', '', 'namespaces', 'finalize', 'ns', 'ns'],
    ['GET', '/api/v1/namespaces/ns/status', 'get', '', 'namespaces', 'status', 'ns', 'ns'],
    [
      'PATCH',
      '/apis/apps/v1/namespaces/ns/deployments/d/status',
      'patch',
      'apps',
      'deployments',
      'status',
      'ns',
      'd',
    ],
    [
      'GET',
      '/apis/cert-manager.io/v1/clusterissuers/i',
      'get',
      'cert-manager.io',
      'clusterissuers',
      '',
      '',
      'i',
    ],
  ])('%s %s → %s', (method, path, verb, apiGroup, resource, subresource, namespace, name) => {
    expect(at(method, path)).toEqual({
      verb,
      apiGroup,
      resource,
      subresource,
      namespace,
      name,
      resourceRequest: true,
    });
  });

  it.each(['/api', '/api/v1', '/apis', '/apis/apps', '/apis/apps/v1', '/version', '/healthz'])(
    'GET %s is a non-resource request (discovery), authorized by path',
    (path) => {
      expect(at('GET', path)).toMatchObject({ resourceRequest: false, verb: 'get', resource: '' });
    },
  );

  it('keeps the caller', () => {
    expect(requestAttributes('GET', new URL('http://api/api/v1/pods'), 'k8s-service').user).toBe(
      'k8s-service',
    );
    expect(requestAttributes('GET', new URL('http://api/api/v1/pods')).user).toBe('system:anonymous');
  });
});
