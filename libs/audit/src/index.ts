export { canonicalJson } from './canonical-json';
export {
  AUDIT_CHECKPOINT_EVENT_TYPE,
  AUDIT_HASH_ALGORITHM,
  chainEntries,
  genesisHash,
  hashedContent,
  hashEvent,
  parseCheckpoint,
  verifyChain,
  type AuditCheckpointData,
  type AuditEntry,
  type ChainMismatch,
  type ChainVerification,
  type HashableEvent,
  type MismatchReason,
} from './chain';
export { AUDIT_ERROR_CODES, AuditError, type AuditErrorCode } from './errors';
export {
  exportNdjson,
  verifyNdjson,
  type NdjsonError,
  type NdjsonEventLine,
  type NdjsonTrailer,
  type NdjsonVerification,
  type VerifyNdjsonOptions,
} from './ndjson';
export {
  AuditChainProjector,
  type AuditChainProjectorOptions,
  type AuditChainProjectorStats,
} from './projector';
export { streamMetadataCursor, type ProjectorCursor } from './projector-cursor';
export { AUDIT_STREAM_CATEGORY, auditStream } from './streams';
export { verifyTenant, type TenantVerification } from './verify';
