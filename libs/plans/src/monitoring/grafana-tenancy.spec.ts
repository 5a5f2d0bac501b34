import { grafanaOrgName, tenantDataSource } from './grafana-tenancy';

describe('tenant data source', () => {
  const id = 'abc-corporation-7f3a9c';

  it('pins the namespace in a header Grafana sets itself, the URL left as configured', () => {
    expect(
      tenantDataSource(id, { urlTemplate: 'http://prom-label-proxy:8080', header: 'X-Namespace' }),
    ).toEqual({
      uid: 'tenant-prometheus',
      name: 'Prometheus',
      type: 'prometheus',
      access: 'proxy',
      url: 'http://prom-label-proxy:8080',
      isDefault: true,
      jsonData: { httpMethod: 'POST', httpHeaderName1: 'X-Namespace' },
      secureJsonData: { httpHeaderValue1: 'e-commerce-abc-corporation-7f3a9c' },
    });
  });

  it('puts the namespace in the URL where the template says, with no header when none is configured', () => {
    const ds = tenantDataSource(id, {
      urlTemplate: 'http://proxy:8080/ns/{namespace}/?namespace={namespace}',
      header: '',
    });
    expect(ds.url).toBe(
      'http://proxy:8080/ns/e-commerce-abc-corporation-7f3a9c/?namespace=e-commerce-abc-corporation-7f3a9c',
    );
    expect(ds.jsonData).toEqual({ httpMethod: 'POST' });
    expect(ds.secureJsonData).toEqual({});
  });

  it('names the organisation after the tenant and refuses an id that is not one', () => {
    expect(grafanaOrgName(id)).toBe('tenant-abc-corporation-7f3a9c');
    expect(() => grafanaOrgName('../x')).toThrow(/invalid tenant id/);
    expect(() => tenantDataSource('a"b', { urlTemplate: 'http://p', header: 'X-Namespace' })).toThrow(
      /invalid tenant id/,
    );
  });
});
