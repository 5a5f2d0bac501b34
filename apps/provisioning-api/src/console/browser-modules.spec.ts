import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENTRY_MODULE, loadBrowserModules, missingModuleMessage } from './browser-modules';

const SOURCES = join(__dirname, 'browser');
const sources = readdirSync(SOURCES).filter((name) => name.endsWith('.ts'));
const read = (name: string) => readFileSync(join(SOURCES, name), 'utf8');

describe('console browser sources', () => {
  it('never render through markup or evaluate strings', () => {
    expect(sources).toContain('app.ts');
    for (const name of sources) {
      expect([name, read(name)]).not.toEqual([
        name,
        expect.stringMatching(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/),
      ]);
    }
  });

  it('import each other by the URL of a module that exists, as the browser resolves them', () => {
    const served = new Set(sources.map((name) => name.replace(/\.ts$/, '.js')));
    const imports = sources.flatMap((name) =>
      [...read(name).matchAll(/^import (?:type )?[^;]*? from '([^']+)';$/gms)].map((m) => [name, m[1]]),
    );
    expect(imports.length).toBeGreaterThan(sources.length);
    for (const [name, target] of imports) {
      expect([name, target]).toEqual([name, expect.stringMatching(/^\.\/[a-z-]+\.js$/)]);
      expect(served).toContain(target.slice(2));
    }
  });
});

describe('loadBrowserModules', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'console-modules-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the compiled modules by file name, and nothing else of the directory', () => {
    writeFileSync(join(dir, 'app.js'), "import './dom.js';");
    writeFileSync(join(dir, 'dom.js'), 'export {};');
    writeFileSync(join(dir, 'app.js.map'), '{}');
    writeFileSync(join(dir, 'types.d.ts'), 'export {};');
    writeFileSync(join(dir, '.hidden.js'), 'secret');
    const modules = loadBrowserModules(dir);
    expect([...modules.keys()]).toEqual(['app.js', 'dom.js']);
    expect(modules.get('dom.js')).toBe('export {};');
    expect(missingModuleMessage(modules, '..%2Fmain.js', dir)).toBe('no console module named ..%2Fmain.js');
  });

  it('is empty when the browser code was not built, and says what to run', () => {
    const modules = loadBrowserModules(join(dir, 'absent'));
    expect(modules.size).toBe(0);
    expect(missingModuleMessage(modules, ENTRY_MODULE, join(dir, 'absent'))).toBe(
      `the console's browser code is not built: ${join(dir, 'absent', 'app.js')} is missing (run npm run build)`,
    );
  });
});
