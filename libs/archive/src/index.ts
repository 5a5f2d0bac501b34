export { BackupObjectNotFoundError, BackupTargetError, type BackupTarget } from './backup-target.port';
export { FilesystemBackupTarget, STALE_PARTIAL_MS } from './filesystem.backup-target';
export { READABLE_STORAGE_CLASSES, S3BackupTarget } from './s3.backup-target';
export { ARCHIVE_PART_SIZE, createS3Client, isTransient, s3ErrorCode, type S3Endpoint } from './s3-client';
export {
  collectStream,
  ensureBucket,
  getLifecycleXml,
  listLatest,
  putLifecycleXml,
  type ObjectSummary,
} from './s3-bucket';
export {
  archiveLifecycleRules,
  archiveTransitionProblem,
  parseLifecycleXml,
  renderLifecycleXml,
  type ArchiveTransition,
  type LifecycleRuleSpec,
  type LifecycleTransitionSpec,
} from './lifecycle';
export {
  archiveLifecycleEnv,
  archiveS3Env,
  archiveTransitionFrom,
  checkArchiveLifecycle,
  type ArchiveLifecycleConfig,
  s3BackupTargetFrom,
  s3EndpointFrom,
  type ArchiveS3Config,
} from './env';
export {
  ensureRetainingBucket,
  listObjectKeys,
  putRetainedObject,
  readSmallObject,
  type BucketProtection,
  type Retention,
  type RetentionMode,
} from './retained-objects';
