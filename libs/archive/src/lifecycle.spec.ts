import {
  archiveLifecycleRules,
  archiveTransitionProblem,
  parseLifecycleXml,
  renderLifecycleXml,
} from './lifecycle';

describe('lifecycle XML', () => {
  it('reads the RGW answer shape (Prefix instead of Filter) and ignores disabled rules', () => {
    const rgw =
      '<?xml version="1.0"?><LifecycleConfiguration><Rule><ID>a</ID><Prefix></Prefix><Status>Enabled</Status>' +
      '<Expiration><Days>30</Days></Expiration></Rule><Rule><ID>b</ID><Prefix></Prefix><Status>Disabled</Status>' +
      '<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule></LifecycleConfiguration>';
    expect(parseLifecycleXml(rgw)).toEqual([{ id: 'a', expirationDays: 30 }]);
  });

  it('tells noncurrent-version expiration from current-object expiration (RGW 16 answer, measured)', () => {
    const rgw =
      '<?xml version="1.0" encoding="UTF-8"?><LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<Rule><ID>a</ID><Prefix></Prefix><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>30' +
      '</NoncurrentDays></NoncurrentVersionExpiration></Rule><Rule><ID>b</ID><Prefix></Prefix><Status>Enabled' +
      '</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>' +
      '<Rule><ID>t</ID><Prefix></Prefix><Status>Enabled</Status><Transition><Days>30</Days><StorageClass>COLD' +
      '</StorageClass></Transition></Rule><Rule><ID>d</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled' +
      '</Status><Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration></Rule></LifecycleConfiguration>';
    expect(parseLifecycleXml(rgw)).toEqual([
      { id: 'a', noncurrentExpirationDays: 30 },
      { id: 'b', expiredObjectDeleteMarker: true },
      { id: 't', transitions: [{ days: 30, storageClass: 'COLD' }] },
      { id: 'd', expirationDate: '2030-01-01T00:00:00.000Z' },
    ]);
  });

  it('renders several actions of one rule in the order of S3 request syntax, and reads them back', () => {
    const rules = [
      {
        id: 'all',
        expiredObjectDeleteMarker: true,
        transitions: [{ days: 0, storageClass: 'GLACIER_IR' }],
        noncurrentExpirationDays: 7,
        abortIncompleteUploadDays: 2,
      },
    ];
    const xml = renderLifecycleXml(rules);
    expect(xml).toBe(
      '<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        '<Rule><ID>all</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>' +
        '<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>' +
        '<Transition><Days>0</Days><StorageClass>GLACIER_IR</StorageClass></Transition>' +
        '<NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays></NoncurrentVersionExpiration>' +
        '<AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload>' +
        '</Rule></LifecycleConfiguration>',
    );
    expect(parseLifecycleXml(xml)).toEqual(rules);
  });

  it('refuses what S3 refuses or what would break the XML', () => {
    expect(() => renderLifecycleXml([{ id: '<x>', expirationDays: 1 }])).toThrow();
    // S3: ExpiredObjectDeleteMarker "cannot be specified with Days or Date".
    expect(() =>
      renderLifecycleXml([{ id: 'a', expirationDays: 30, expiredObjectDeleteMarker: true }]),
    ).toThrow('one of expiration days, date or delete marker');
    expect(() => renderLifecycleXml([{ id: 'a' }])).toThrow('has no action');
    expect(() => renderLifecycleXml([{ id: 'a', noncurrentExpirationDays: 0 }])).toThrow();
    expect(() =>
      renderLifecycleXml([{ id: 'a', transitions: [{ days: 1, storageClass: '</StorageClass>' }] }]),
    ).toThrow('invalid lifecycle storage class');
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

describe('archive cold transition (STORAGE_ARCHIVE_TRANSITION_CLASS / _DAYS)', () => {
  it('moves archives, written in a readable class and verified, to the cold class before they expire', () => {
    const rules = archiveLifecycleRules(365, { storageClass: 'DEEP_ARCHIVE', days: 30 });
    expect(rules).toEqual([
      { id: 'abort-incomplete-uploads', abortIncompleteUploadDays: 1 },
      { id: 'archive-cold-transition', transitions: [{ days: 30, storageClass: 'DEEP_ARCHIVE' }] },
      { id: 'archive-retention', expirationDays: 365 },
    ]);
    const xml = renderLifecycleXml(rules);
    expect(xml).toContain(
      '<Rule><ID>archive-cold-transition</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>' +
        '<Transition><Days>30</Days><StorageClass>DEEP_ARCHIVE</StorageClass></Transition></Rule>',
    );
    expect(parseLifecycleXml(xml)).toEqual(rules);
    // Kept forever (0): the transition alone.
    expect(archiveLifecycleRules(0, { storageClass: 'GLACIER', days: 1 }).map((r) => r.id)).toEqual([
      'abort-incomplete-uploads',
      'archive-cold-transition',
    ]);
  });

  it('refuses a transition on or after the expiration, to STANDARD, or earlier than the class allows', () => {
    expect(archiveTransitionProblem(365, { storageClass: 'GLACIER', days: 365 })).toMatchObject({
      on: 'days',
    });
    expect(archiveTransitionProblem(30, { storageClass: 'GLACIER', days: 45 })?.message).toContain(
      'before the archives expire',
    );
    expect(archiveTransitionProblem(365, { storageClass: 'GLACIER', days: 364 })).toBeNull();
    expect(archiveTransitionProblem(365, { storageClass: 'STANDARD', days: 30 })).toMatchObject({
      on: 'storageClass',
    });
    // S3: a transition to STANDARD_IA or ONEZONE_IA comes after 30 days at the earliest.
    expect(archiveTransitionProblem(365, { storageClass: 'STANDARD_IA', days: 29 })).toMatchObject({
      on: 'days',
    });
    expect(archiveTransitionProblem(0, { storageClass: 'GLACIER', days: 0 })).toMatchObject({ on: 'days' });
    expect(() => archiveLifecycleRules(365, { storageClass: 'GLACIER', days: 400 })).toThrow(
      'invalid archive transition',
    );
  });
});
