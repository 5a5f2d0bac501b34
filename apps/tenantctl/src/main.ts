#!/usr/bin/env node
import { EXIT, run } from './tenantctl';

/** tenantctl, the operators' command line: `node dist/apps/tenantctl/src/main.js <command>` (`npm run tenantctl`). */
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
}).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = EXIT.ERROR;
  },
);
