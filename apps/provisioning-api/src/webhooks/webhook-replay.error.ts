import { ApiError } from '../http/api-error';

/**
 * A signed request already accepted, sent again inside the tolerance window. 409, not 401: the credentials are
 * genuine, and a billing client that resends the same signed bytes after losing our answer learns that the
 * delivery arrived. A genuine retry is signed anew (a new timestamp) and is let in.
 */
export class WebhookReplayError extends ApiError<'WEBHOOK.REPLAYED'> {
  constructor() {
    super(
      'WEBHOOK.REPLAYED',
      'this signed request was already received; a retry must be signed again with a new timestamp',
      409,
    );
  }
}
