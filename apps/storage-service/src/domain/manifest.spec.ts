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

  describe('archive object keys', () => {
    // The S3 archive target's key pattern (libs/archive s3.backup-target).
    const ARCHIVE_KEY = /^[A-Za-z0-9][A-Za-z0-9!_.*'()/ -]{0,1023}$/;

    it('keeps keys already in the archive alphabet as they are', () => {
      const plain = "catalog/Item_01 (copy)-v2.*'.png";
      expect(archiveObjectKey(T, 'products', plain)).toBe(`${T}/minio/products/${plain}`);
    });

    it('escapes every other UTF-8 byte as !XX, so an accented product image can be archived', () => {
      const key = archiveObjectKey(T, 'products', 'catalog/cr\u00e8me+br\u00fbl\u00e9e.jpg');
      expect(key).toBe(`${T}/minio/products/catalog/cr!C3!A8me!2Bbr!C3!BBl!C3!A9e.jpg`);
      expect(key).toMatch(ARCHIVE_KEY);
      expect(archiveObjectKey(T, 'sav', 'a@b=c&d,e~f!\u{1F600}')).toBe(
        `${T}/minio/sav/a!40b!3Dc!26d!2Ce!7Ef!21!F0!9F!98!80`,
      );
    });

    it('never maps two keys to the same archive key', () => {
      const keys = [
        'a!21',
        'a!',
        'a!!',
        'a!2',
        'a!21!',
        '!',
        '!21',
        'a+b',
        'a!2Bb',
        'a%2Bb',
        '\u00e9',
        'e\u0301',
      ];
      const archived = keys.map((k) => archiveObjectKey(T, 'sav', k));
      expect(new Set(archived).size).toBe(keys.length);
      for (const key of archived) expect(key).toMatch(ARCHIVE_KEY);
    });

    it("escapes the dots of '.' and '..' segments, which the archive target refuses", () => {
      expect(archiveObjectKey(T, 'sav', 'a/../b/./c..d/.e')).toBe(`${T}/minio/sav/a/!2E!2E/b/!2E/c..d/.e`);
      expect(archiveObjectKey(T, 'sav', '..')).not.toBe(archiveObjectKey(T, 'sav', '!2E!2E'));
      for (const key of ['..', '.', 'a/..', '../a']) {
        const archived = archiveObjectKey(T, 'sav', key);
        expect(archived.split('/')).not.toContain('..');
        expect(archived.split('/')).not.toContain('.');
        expect(archived).toMatch(ARCHIVE_KEY);
      }
    });

    it('archives a key whose escaped form would pass 1,024 bytes under the hash of the key', () => {
      const longest = 'x'.repeat(1024 - `${T}/minio/products/`.length);
      expect(archiveObjectKey(T, 'products', longest)).toBe(`${T}/minio/products/${longest}`);
      const accented = '\u00e9'.repeat(400); // 800 bytes, 2,400 once escaped
      const archived = archiveObjectKey(T, 'products', accented);
      expect(archived).toMatch(new RegExp(`^${T}/minio/products/!H[0-9a-f]{64}$`));
      expect(archived).toMatch(ARCHIVE_KEY);
      expect(archiveObjectKey(T, 'products', `${accented}2`)).not.toBe(archived);
      expect(archiveObjectKey(T, 'products', `${longest}y`)).toMatch(/!H[0-9a-f]{64}$/);
    });
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
