import { tenantTopology, probeRoutingKey } from './topology';

describe('tenantTopology', () => {
  it('is the spec 5.2 configuration for abc-corporation-7f3a9c', () => {
    expect(tenantTopology('abc-corporation-7f3a9c')).toEqual({
      vhost: 'abc-corporation-7f3a9c',
      exchanges: [
        { name: 'abc-corporation-7f3a9c.events', type: 'topic', durable: true, auto_delete: false },
      ],
      queues: [
        {
          name: 'abc-corporation-7f3a9c.auth',
          durable: true,
          auto_delete: false,
          arguments: { 'x-message-ttl': 86400000, 'x-max-length': 10000 },
        },
        { name: 'abc-corporation-7f3a9c.products', durable: true, auto_delete: false, arguments: {} },
        { name: 'abc-corporation-7f3a9c.orders', durable: true, auto_delete: false, arguments: {} },
      ],
      bindings: [
        {
          source: 'abc-corporation-7f3a9c.events',
          destination: 'abc-corporation-7f3a9c.auth',
          destination_type: 'queue',
          routing_key: 'user.*',
        },
        {
          source: 'abc-corporation-7f3a9c.events',
          destination: 'abc-corporation-7f3a9c.products',
          destination_type: 'queue',
          routing_key: 'product.*',
        },
        {
          source: 'abc-corporation-7f3a9c.events',
          destination: 'abc-corporation-7f3a9c.orders',
          destination_type: 'queue',
          routing_key: 'order.*',
        },
      ],
    });
  });
  it('refuses a hostile tenant id', () => {
    expect(() => tenantTopology('x/../%2F; rm -rf')).toThrow(/invalid tenant id/);
  });
  it('fills the binding wildcard for probes', () => {
    expect(probeRoutingKey('user.*')).toBe('user.provisioning-probe');
  });
});
