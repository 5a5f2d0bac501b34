import {
  archiveObjectKey,
  buildManifest,
  findArchiveProblems,
  manifestKey,
  storageManifestSchema,
} from './manifest';

const T = 'abc-corporation-7f3a9c';
const entry = {
  kind: 'products' as const,
  bucket: `${T}-products`,
  key: 'public/logo.png',
  archiveKey: archiveObjectKey(T, 'products', 'public/logo.png'),
  size: 3,
  etag: 'e',
  sha256: 'a'.repeat(64),
};

describe('storage backup manifest', () => {
  it('places objects and the manifest under <tenant>/minio/', () => {
    expect(archiveObjectKey(T, 'sav', 'a/b.txt')).toBe(`${T}/minio/sav/a/b.txt`);
    expect(manifestKey(T, 'bk-1')).toBe(`${T}/minio/manifest-bk-1.json`);
    expect(() => manifestKey(T, '../x')).toThrow();
  });

  it('totals objects and bytes and round-trips through its schema', () => {
    const manifest = buildManifest({
      tenantId: T,
      backupId: 'bk',
      createdAt: new Date('2025-07-15T00:00:00Z'),
      archiveBucket: 'ecommerce-tenant-archives',
      storageClass: 'DEEP_ARCHIVE',
      objects: [entry, { ...entry, key: 'b', archiveKey: 'x', size: 5 }],
    });
    expect([manifest.objectCount, manifest.totalBytes]).toEqual([2, 8]);
    expect(storageManifestSchema.parse(JSON.parse(JSON.stringify(manifest)))).toEqual(manifest);
  });

  it('names missing, resized and altered objects', () => {
    expect(
      findArchiveProblems([
        { entry, found: { size: 3, sha256: 'a'.repeat(64) } },
        { entry: { ...entry, archiveKey: 'm' }, found: null },
        { entry: { ...entry, archiveKey: 's' }, found: { size: 4, sha256: 'a'.repeat(64) } },
        { entry: { ...entry, archiveKey: 'h' }, found: { size: 3, sha256: 'b'.repeat(64) } },
      ]),
    ).toEqual([
      { archiveKey: 'm', problem: 'missing' },
      { archiveKey: 's', problem: 'size' },
      { archiveKey: 'h', problem: 'sha256' },
    ]);
  });
});
