import { parseLifecycleXml, renderLifecycleXml } from '@app/archive';
import { currentObjectExpirations, productsLifecycleRules, satisfiesProductsLifecycle } from './lifecycle';

describe('products lifecycle (spec 4.1: mc ilm add --expiry-days 30 --expired-object-delete-marker)', () => {
  it('expires noncurrent versions after 30 days and expired delete markers, over the whole bucket', () => {
    const xml = renderLifecycleXml(productsLifecycleRules());
    expect(xml).toBe(
      '<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        '<Rule><ID>expire-noncurrent-after-30-days</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>' +
        '<NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays></NoncurrentVersionExpiration></Rule>' +
        '<Rule><ID>remove-expired-delete-markers</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>' +
        '<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>' +
        '</LifecycleConfiguration>',
    );
    expect(parseLifecycleXml(xml)).toEqual(productsLifecycleRules());
    expect(satisfiesProductsLifecycle(parseLifecycleXml(xml))).toBe(true);
  });

  it('never expires a current object: live product images stay', () => {
    const rules = productsLifecycleRules();
    expect(rules.filter((r) => r.expirationDays !== undefined)).toEqual([]);
    expect(renderLifecycleXml(rules)).not.toMatch(/<Expiration><(Days|Date)>/);
  });

  it("refuses the spec's literal rule (current objects expire after 30 days), alone or beside ours", () => {
    const literal = [
      { id: 'expire-after-30-days', expirationDays: 30 },
      { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
    ];
    expect(satisfiesProductsLifecycle(literal)).toBe(false);
    expect(satisfiesProductsLifecycle([...productsLifecycleRules(), literal[0]])).toBe(false);
    expect(
      satisfiesProductsLifecycle([
        ...productsLifecycleRules(),
        { id: 'x', expirationDate: '2030-01-01T00:00:00Z' },
      ]),
    ).toBe(false);
    expect(currentObjectExpirations(literal).map((r) => r.id)).toEqual(['expire-after-30-days']);
  });

  it('is not satisfied without the delete-marker cleanup or with another noncurrent delay', () => {
    expect(satisfiesProductsLifecycle([{ id: 'a', noncurrentExpirationDays: 30 }])).toBe(false);
    expect(
      satisfiesProductsLifecycle([
        { id: 'a', noncurrentExpirationDays: 7 },
        { id: 'b', expiredObjectDeleteMarker: true },
      ]),
    ).toBe(false);
  });
});
