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
export {
  AUDIT_ANCHOR_FORMAT,
  AUDIT_ANCHOR_PREFIX,
  anchorObjectKey,
  compareWithAnchor,
  isAnchorObjectKey,
  readAnchor,
  signAnchor,
  type AnchorComparison,
  type AnchoredHead,
  type AnchorReading,
  type AnchorRejection,
  type AuditAnchorBody,
  type SignedAuditAnchor,
} from './anchor';
export { ANCHOR_ERROR_CODES, AnchorError, type AnchorErrorCode } from './anchor-errors';
export { collectChainHeads, holdAnchoredHeads, type ChainHeads, type HeldHead } from './anchor-heads';
export {
  anchorKeyId,
  parseAnchorPrivateKey,
  parseAnchorPublicKeys,
  type AnchorSigningKey,
} from './anchor-keys';
export {
  verifyTenantWithAnchor,
  type LatestAnchor,
  type TenantAnchorCheck,
  type TenantAnchorVerification,
} from './anchor-verify';
