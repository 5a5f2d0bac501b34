import { archiveLifecycleRules, parseLifecycleXml, renderLifecycleXml } from './lifecycle';

describe('lifecycle XML', () => {
  it('reads the RGW answer shape (Prefix instead of Filter) and ignores disabled rules', () => {
    const rgw =
      '<?xml version="1.0"?><LifecycleConfiguration><Rule><ID>a</ID><Prefix></Prefix><Status>Enabled</Status>' +
      '<Expiration><Days>30</Days></Expiration></Rule><Rule><ID>b</ID><Prefix></Prefix><Status>Disabled</Status>' +
      '<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule></LifecycleConfiguration>';
    expect(parseLifecycleXml(rgw)).toEqual([{ id: 'a', expirationDays: 30 }]);
  });

  it('refuses rule ids that would break the XML', () => {
    expect(() => renderLifecycleXml([{ id: '<x>', expirationDays: 1 }])).toThrow();
  });
});

describe('archive retention (STORAGE_ARCHIVE_RETENTION_DAYS)', () => {
  it('expires archives after the configured days, over the whole archive bucket', () => {
    const xml = renderLifecycleXml(archiveLifecycleRules(365));
    expect(xml).toContain(
      '<ID>archive-retention</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>',
    );
    expect(parseLifecycleXml(xml)).toEqual([
      { id: 'abort-incomplete-uploads', abortIncompleteUploadDays: 1 },
      { id: 'archive-retention', expirationDays: 365 },
    ]);
  });

  it('always removes the parts of uploads a killed backup left; no expiry for 0 (keep forever)', () => {
    expect(archiveLifecycleRules(0)).toEqual([
      { id: 'abort-incomplete-uploads', abortIncompleteUploadDays: 1 },
    ]);
    expect(renderLifecycleXml(archiveLifecycleRules(0))).toContain(
      '<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>',
    );
    expect(() => archiveLifecycleRules(-1)).toThrow('invalid archive retention');
    expect(() => archiveLifecycleRules(1.5)).toThrow('invalid archive retention');
  });
});
