import {
  InsertBatcher,
  insertStatement,
  parseDumpLine,
  tableDefinition,
  INSERT_BATCH_ROWS,
} from './dump-format';
import {
  backupDate,
  dumpKey,
  isOwnDumpKey,
  legacyDumpKey,
  manifestKey,
  parseManifest,
} from './backup-manifest';

describe('dump format', () => {
  it('writes one statement per line, escaping newlines, quotes and binary', () => {
    const sql = insertStatement(
      't',
      ['id', 'body', 'blob'],
      [
        [1, "it's\na \\ test", Buffer.from([0, 255])],
        ['2', null, null],
      ],
    );
    expect(sql).toBe(
      "INSERT INTO `t` (`id`,`body`,`blob`) VALUES (1,'it\\'s\\na \\\\ test',X'00ff'),('2',NULL,NULL);\n",
    );
    expect(sql.trimEnd().split('\n')).toHaveLength(1);
    expect(parseDumpLine(sql.trimEnd())).toEqual({ kind: 'statement', sql: sql.trimEnd().slice(0, -1) });
  });

  it('folds SHOW CREATE TABLE onto one line', () => {
    const ddl = 'CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB';
    expect(tableDefinition('t', ddl)).toBe(
      'DROP TABLE IF EXISTS `t`;\nCREATE TABLE `t` ( `id` int(11) NOT NULL, PRIMARY KEY (`id`) ) ENGINE=InnoDB;\n',
    );
    expect(() => tableDefinition('t', 'CREATE TABLE `mysql`.`user` (')).toThrow(/unexpected definition/);
  });

  it('batches rows', () => {
    const batcher = new InsertBatcher('t', ['id']);
    const statements = Array.from({ length: INSERT_BATCH_ROWS * 2 + 1 }, (_, i) => batcher.add([i])).filter(
      Boolean,
    );
    expect(statements).toHaveLength(2);
    expect(batcher.flush()).toContain('VALUES (2000)');
    expect(batcher.rowCount).toBe(INSERT_BATCH_ROWS * 2 + 1);
  });

  it.each([
    'DROP DATABASE mysql;',
    'CREATE TABLE `mysql`.`user` (x int);',
    'INSERT INTO mysql.user VALUES (1);',
    'GRANT ALL ON *.* TO x;',
  ])('restore refuses foreign statement %p', (line) => {
    expect(() => parseDumpLine(line)).toThrow(expect.objectContaining({ code: 'DATABASE.BACKUP_CORRUPTED' }));
  });
  it('skips comments and blank lines', () => {
    expect(parseDumpLine('-- dump complete')).toEqual({ kind: 'skip' });
    expect(parseDumpLine('')).toEqual({ kind: 'skip' });
  });
});

describe('backup manifest', () => {
  it('derives the spec keys', () => {
    expect(backupDate('2025-07-15T23:59:59.000Z')).toBe('20250715');
    // The spec's day-named key with the backup id appended: two rounds on one day write different dumps.
    expect(dumpKey('abc-corporation-7f3a9c', 'abc_corporation_7f3a9c_auth_db', '20250715', 'b-1')).toBe(
      'abc-corporation-7f3a9c/databases/abc_corporation_7f3a9c_auth_db_final_20250715_b-1.sql.gz',
    );
    expect(dumpKey('abc-corporation-7f3a9c', 'abc_corporation_7f3a9c_auth_db', '20250715', 'b-2')).not.toBe(
      dumpKey('abc-corporation-7f3a9c', 'abc_corporation_7f3a9c_auth_db', '20250715', 'b-1'),
    );
    expect(legacyDumpKey('abc-corporation-7f3a9c', 'abc_corporation_7f3a9c_auth_db', '20250715')).toBe(
      'abc-corporation-7f3a9c/databases/abc_corporation_7f3a9c_auth_db_final_20250715.sql.gz',
    );
    expect(() =>
      dumpKey('abc-corporation-7f3a9c', 'abc_corporation_7f3a9c_auth_db', '20250715', '../x'),
    ).toThrow(/backupId/);
    expect(() => dumpKey('abc-corporation-7f3a9c', '../other', '20250715', 'b-1')).toThrow(/database name/);
    expect(manifestKey('abc-corporation-7f3a9c', 'b-1')).toBe(
      'abc-corporation-7f3a9c/databases/manifest_b-1.json',
    );
    expect(() => manifestKey('abc-corporation-7f3a9c', '../x')).toThrow(/backupId/);
  });
  it("accepts only its own backup's dump keys, or the day-named keys of an older manifest", () => {
    const tenantId = 'abc-corporation-7f3a9c';
    const database = 'abc_corporation_7f3a9c_auth_db';
    const manifest = (backupId: string, key: string) =>
      parseManifest(
        JSON.stringify({
          version: 1,
          tenantId,
          backupId,
          createdAt: '2025-07-15T10:00:00.000Z',
          format: 'mysql-logical-dump+gzip',
          dumps: [{ service: 'auth', database, key, sha256: '0'.repeat(64), bytes: 1, tables: [] }],
        }),
      );
    const own = (m: ReturnType<typeof manifest>) => isOwnDumpKey(m, m.dumps[0]);
    expect(own(manifest('b-2', dumpKey(tenantId, database, '20250715', 'b-2')))).toBe(true);
    expect(own(manifest('b-2', legacyDumpKey(tenantId, database, '20250715')))).toBe(true);
    // Another round's dump, another day's, another database's.
    expect(own(manifest('b-2', dumpKey(tenantId, database, '20250715', 'b-1')))).toBe(false);
    expect(own(manifest('b-2', dumpKey(tenantId, database, '20250714', 'b-2')))).toBe(false);
    expect(
      own(manifest('b-2', dumpKey(tenantId, 'abc_corporation_7f3a9c_orders_db', '20250715', 'b-2'))),
    ).toBe(false);
  });
  it('rejects a malformed manifest with a clear code', () => {
    expect(() => parseManifest('{')).toThrow(
      expect.objectContaining({ code: 'DATABASE.BACKUP_MANIFEST_INVALID' }),
    );
    expect(() => parseManifest('{"version":2}')).toThrow(
      expect.objectContaining({ code: 'DATABASE.BACKUP_MANIFEST_INVALID' }),
    );
  });
});
