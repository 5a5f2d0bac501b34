import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The console's browser modules as `npm run build` compiles them (`browser/*.ts`, own tsconfig, ES modules):
 * one `.js` file per module beside this file's compiled copy in `dist/`, served under `/console/<name>.js`
 * so that `app.js` imports the others by relative URL.
 */
export const BROWSER_DIR = join(__dirname, 'browser');

/** The entry module the page loads; the others arrive through its imports. */
export const ENTRY_MODULE = 'app.js';

const MODULE_NAME = /^[a-z][a-z0-9-]*\.js$/;

/**
 * Reads every compiled module of `dir`, by file name. Empty when the directory is missing (the app run from
 * its TypeScript sources, as by the integration tests, has no compiled browser code to serve).
 */
export function loadBrowserModules(dir: string = BROWSER_DIR): ReadonlyMap<string, string> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
  return new Map(
    names
      .filter((name) => MODULE_NAME.test(name))
      .sort()
      .map((name) => [name, readFileSync(join(dir, name), 'utf8')] as const),
  );
}

/** Why a module cannot be served: unknown name, or no compiled browser code at all. */
export function missingModuleMessage(modules: ReadonlyMap<string, string>, name: string, dir = BROWSER_DIR) {
  return modules.has(ENTRY_MODULE)
    ? `no console module named ${name}`
    : `the console's browser code is not built: ${join(dir, ENTRY_MODULE)} is missing (run npm run build)`;
}
