import { parseLifecycleXml, renderLifecycleXml } from '@app/archive';
import { productsLifecycleRules, satisfiesProductsLifecycle } from './lifecycle';

describe('products lifecycle (mc ilm add --expiry-days 30 --expired-object-delete-marker)', () => {
  it('renders two whole-bucket rules and reads them back', () => {
    const xml = renderLifecycleXml(productsLifecycleRules());
    expect(xml).toBe(
      '<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        '<Rule><ID>expire-after-30-days</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>' +
        '<Expiration><Days>30</Days></Expiration></Rule>' +
        '<Rule><ID>remove-expired-delete-markers</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>' +
        '<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>' +
        '</LifecycleConfiguration>',
    );
    expect(parseLifecycleXml(xml)).toEqual(productsLifecycleRules());
    expect(satisfiesProductsLifecycle(parseLifecycleXml(xml))).toBe(true);
  });

  it('is not satisfied by a 30-day expiry alone', () => {
    expect(satisfiesProductsLifecycle([{ id: 'a', expirationDays: 30 }])).toBe(false);
  });
});
