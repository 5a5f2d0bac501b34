import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemBackupTarget, STALE_PARTIAL_MS } from './filesystem.backup-target';

describe('FilesystemBackupTarget (real files)', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'fs-backup-'));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('removes the partial file a killed writer left, but not one still being written', async () => {
    const key = 'acme-7f3a9c/databases/acme_7f3a9c_products_final_20250715.sql.gz';
    const dir = join(root, 'acme-7f3a9c', 'databases');
    await mkdir(dir, { recursive: true });
    const dead = join(dir, 'acme_7f3a9c_products_final_20250715.sql.gz.partial-deadbeef');
    const live = join(dir, 'acme_7f3a9c_products_final_20250715.sql.gz.partial-0badcafe');
    const otherKey = join(dir, 'acme_7f3a9c_orders_final_20250715.sql.gz.partial-deadbeef');
    for (const file of [dead, live, otherKey]) await writeFile(file, 'INSERT INTO customers ...');
    const old = new Date(Date.now() - STALE_PARTIAL_MS - 60_000);
    await utimes(dead, old, old);
    await utimes(otherKey, old, old);

    const target = new FilesystemBackupTarget(root);
    await target.putObject(key, Buffer.from('dump'));

    expect(await readFile(join(root, key), 'utf8')).toBe('dump');
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    // Another key's leftovers wait for that key's next write.
    expect(existsSync(otherKey)).toBe(true);
    expect(await target.listObjects('acme-7f3a9c/')).toEqual([key]);
  });
});
