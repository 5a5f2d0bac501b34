/** Stable codes of management API failures. */
export type ManagementErrorCode =
  | 'MANAGEMENT.NOT_FOUND'
  | 'MANAGEMENT.UNAUTHORIZED'
  | 'MANAGEMENT.BAD_REQUEST'
  | 'MANAGEMENT.HTTP_ERROR'
  | 'MANAGEMENT.TIMEOUT'
  | 'MANAGEMENT.UNREACHABLE'
  | 'MANAGEMENT.INVALID_NAME'
  | 'MANAGEMENT.INVALID_OPTIONS';

export class RabbitManagementError extends Error {
  constructor(
    readonly code: ManagementErrorCode,
    message: string,
    readonly status?: number,
    /** RabbitMQ's own explanation (e.g. `PRECONDITION_FAILED - inequivalent arg ...`), at most 300 chars. */
    readonly reason = '',
  ) {
    super(message);
    this.name = 'RabbitManagementError';
  }

  /** Network trouble and server errors may pass on a later attempt; 4xx answers will not. */
  get retryable(): boolean {
    return (
      this.code === 'MANAGEMENT.TIMEOUT' ||
      this.code === 'MANAGEMENT.UNREACHABLE' ||
      (this.status !== undefined && this.status >= 500)
    );
  }
}
