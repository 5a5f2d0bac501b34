/** Exit codes, also printed by `tenantctl --help`. */
export const EXIT = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  UNKNOWN_TENANT: 3,
  VERIFY_FAILED: 4,
  TIMEOUT: 5,
  INTERRUPTED: 130,
} as const;

export interface TextSink {
  write(text: string): unknown;
}

/** What `run` touches of the outside world; tests pass their own. */
export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C; stops `watch` and `secrets rotate-key`. */
  signal?: AbortSignal;
  now?: () => Date;
}

/** A refusal with its exit code and a message for stderr. */
export class CliFailure extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}

export const usage = (message: string) => new CliFailure(EXIT.USAGE, message);
