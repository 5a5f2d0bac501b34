import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * kubernetes-models v5, @kubernetes-models/prometheus-operator v6 and @kubernetes/client-node v2 ship as ES
 * modules only. Node 24 loads them with `require(esm)`, but Jest's module registry (without
 * --experimental-vm-modules) refuses, so the loader is taken from the host realm: a core-module function's
 * constructor is the host's `Function`, whose `process` is the real one. In production this is the same
 * loader a plain `require` would use.
 */
type HostRequire = NodeJS.Require;
let hostRequire: HostRequire | undefined;

function nativeRequire(): HostRequire {
  if (!hostRequire) {
    const HostFunction = readFileSync.constructor as FunctionConstructor;
    const hostProcess = new HostFunction('return process')() as NodeJS.Process;
    hostRequire = hostProcess.getBuiltinModule('node:module').createRequire(__filename);
  }
  return hostRequire;
}

/** The installed package's directory, found by walking up node_modules (ESM-only exports hide package.json). */
export function packageDir(name: string): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`package ${name} is not installed`);
    dir = parent;
  }
}

/** Loads `<package>/<file>` through Node's own loader (works for ESM-only packages). */
export function loadPackageFile<T>(pkg: string, file: string): T {
  return nativeRequire()(join(packageDir(pkg), file)) as T;
}

/** Loads a package by its main entry through Node's own loader. */
export function loadPackage<T>(pkg: string): T {
  return nativeRequire()(pkg) as T;
}
