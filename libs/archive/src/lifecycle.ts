/** S3 bucket lifecycle configurations: the archive bucket's rules, and the XML both services write and read. */
export interface LifecycleTransitionSpec {
  /** Days after an object was written. */
  days: number;
  storageClass: string;
}

/**
 * One whole-bucket rule; each field present is one action of it. `expirationDays` and `expirationDate` expire
 * CURRENT objects (on a versioned bucket a delete marker then hides the live object), the noncurrent fields
 * act on versions already replaced or deleted.
 */
export interface LifecycleRuleSpec {
  id: string;
  expirationDays?: number;
  /** Read back from a server only (ISO 8601, midnight UTC); no rule of ours sets it. */
  expirationDate?: string;
  expiredObjectDeleteMarker?: boolean;
  /** Versions are removed this many days after they stopped being current. */
  noncurrentExpirationDays?: number;
  transitions?: LifecycleTransitionSpec[];
  /** Parts of a multipart upload never completed (a writer killed mid-upload) are removed after these days. */
  abortIncompleteUploadDays?: number;
}

/** Days after which the archive bucket drops the parts of an upload a killed backup never completed. */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 1;

/** Storage class names as S3, MinIO tiers and RGW placement storage classes spell them. */
export const STORAGE_CLASS_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * S3 refuses a transition to STANDARD_IA or ONEZONE_IA before 30 days (PutBucketLifecycleConfiguration,
 * Transition.Days); other servers accept these names with the same meaning.
 */
export const MIN_TRANSITION_DAYS: Readonly<Record<string, number>> = { STANDARD_IA: 30, ONEZONE_IA: 30 };

/** Moves every archive to a colder storage class `days` after it was written (STORAGE_ARCHIVE_TRANSITION_*). */
export interface ArchiveTransition {
  storageClass: string;
  days: number;
}

/** What is wrong with a transition, and which of its two values is at fault. */
export interface ArchiveTransitionProblem {
  on: 'storageClass' | 'days';
  message: string;
}

/**
 * Why a transition cannot go with a retention, or null: it must name a class other than STANDARD (objects are
 * written in a readable class and only then moved), wait at least a day (S3 would accept 0, which can move a
 * backup before its verification read it back) and the class's minimum, and happen strictly before the
 * expiration (a transition on or after it would never run, or bill a cold class for nothing).
 */
export function archiveTransitionProblem(
  retentionDays: number,
  transition: ArchiveTransition,
): ArchiveTransitionProblem | null {
  const { storageClass, days } = transition;
  if (!STORAGE_CLASS_PATTERN.test(storageClass))
    return { on: 'storageClass', message: `invalid storage class ${storageClass}` };
  if (storageClass === 'STANDARD')
    return { on: 'storageClass', message: 'a transition to STANDARD moves nothing' };
  if (!Number.isInteger(days) || days < 1) return { on: 'days', message: `invalid transition days ${days}` };
  const minimum = MIN_TRANSITION_DAYS[storageClass] ?? 1;
  if (days < minimum)
    return { on: 'days', message: `${storageClass} takes objects after ${minimum} days at the earliest` };
  if (retentionDays > 0 && days >= retentionDays) {
    return {
      on: 'days',
      message: `the transition (day ${days}) must come before the archives expire (STORAGE_ARCHIVE_RETENTION_DAYS, day ${retentionDays})`,
    };
  }
  return null;
}

/**
 * Rules of the archive bucket: the parts of an upload cut by a crash (a bucket mirror or a database dump:
 * large objects go up in parts) are always removed after a day, since no manifest points at them and nobody
 * else would ever find that copy of tenant data; backups, written in a class that reads back at once so they
 * can be verified, move to the cold class of `transition` when one is configured; and the final backups
 * (every tenant's `<tenantId>/` prefix) expire `days` after they were written, 0 meaning they are kept until
 * removed by hand.
 */
export function archiveLifecycleRules(
  days: number,
  transition: ArchiveTransition | null = null,
): LifecycleRuleSpec[] {
  if (!Number.isInteger(days) || days < 0) throw new Error(`invalid archive retention ${days}`);
  const rules: LifecycleRuleSpec[] = [
    { id: 'abort-incomplete-uploads', abortIncompleteUploadDays: ABORT_INCOMPLETE_UPLOAD_DAYS },
  ];
  if (transition !== null) {
    const problem = archiveTransitionProblem(days, transition);
    if (problem !== null) throw new Error(`invalid archive transition: ${problem.message}`);
    rules.push({ id: 'archive-cold-transition', transitions: [transition] });
  }
  if (days > 0) rules.push({ id: 'archive-retention', expirationDays: days });
  return rules;
}

function positiveDays(value: number, what: string, minimum = 1): number {
  if (!Number.isInteger(value) || value < minimum) throw new Error(`invalid lifecycle ${what} ${value}`);
  return value;
}

/** The actions of one rule, in the order of S3's PutBucketLifecycleConfiguration request syntax. */
function renderActions(rule: LifecycleRuleSpec): string {
  const actions: string[] = [];
  const expiring = [rule.expirationDays, rule.expirationDate, rule.expiredObjectDeleteMarker];
  if (expiring.filter((value) => value !== undefined).length > 1) {
    // S3 (and RGW, measured) refuse Days, Date and ExpiredObjectDeleteMarker together in one Expiration.
    throw new Error(`lifecycle rule ${rule.id}: one of expiration days, date or delete marker`);
  }
  if (rule.expirationDays !== undefined)
    actions.push(
      `<Expiration><Days>${positiveDays(rule.expirationDays, 'expiration days')}</Days></Expiration>`,
    );
  if (rule.expirationDate !== undefined) {
    if (!/^\d{4}-\d{2}-\d{2}T00:00:00(\.000)?Z$/.test(rule.expirationDate))
      throw new Error(`invalid lifecycle expiration date ${rule.expirationDate}`);
    actions.push(`<Expiration><Date>${rule.expirationDate}</Date></Expiration>`);
  }
  if (rule.expiredObjectDeleteMarker !== undefined)
    actions.push(
      `<Expiration><ExpiredObjectDeleteMarker>${rule.expiredObjectDeleteMarker}</ExpiredObjectDeleteMarker></Expiration>`,
    );
  for (const transition of rule.transitions ?? []) {
    if (!STORAGE_CLASS_PATTERN.test(transition.storageClass))
      throw new Error(`invalid lifecycle storage class ${transition.storageClass}`);
    actions.push(
      `<Transition><Days>${positiveDays(transition.days, 'transition days', 0)}</Days>` +
        `<StorageClass>${transition.storageClass}</StorageClass></Transition>`,
    );
  }
  if (rule.noncurrentExpirationDays !== undefined)
    actions.push(
      `<NoncurrentVersionExpiration><NoncurrentDays>${positiveDays(rule.noncurrentExpirationDays, 'noncurrent days')}</NoncurrentDays></NoncurrentVersionExpiration>`,
    );
  if (rule.abortIncompleteUploadDays !== undefined)
    actions.push(
      `<AbortIncompleteMultipartUpload><DaysAfterInitiation>${positiveDays(rule.abortIncompleteUploadDays, 'abort days')}</DaysAfterInitiation></AbortIncompleteMultipartUpload>`,
    );
  if (actions.length === 0) throw new Error(`lifecycle rule ${rule.id} has no action`);
  return actions.join('');
}

export function renderLifecycleXml(rules: LifecycleRuleSpec[]): string {
  const body = rules
    .map((rule) => {
      if (!/^[A-Za-z0-9-]{1,255}$/.test(rule.id)) throw new Error(`invalid lifecycle rule id ${rule.id}`);
      return (
        `<Rule><ID>${rule.id}</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>` +
        `${renderActions(rule)}</Rule>`
      );
    })
    .join('');
  return `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</LifecycleConfiguration>`;
}

function element(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml)?.[1];
}

/**
 * Reads back the enabled rules a server reports (its XML may use `<Prefix>` or `<Filter>`, in any order).
 * `<Expiration>` and `<Transition>` are matched with their opening `<`, so they never match the
 * `NoncurrentVersion…` elements.
 */
export function parseLifecycleXml(xml: string): LifecycleRuleSpec[] {
  const rules: LifecycleRuleSpec[] = [];
  for (const match of xml.matchAll(/<Rule>([\s\S]*?)<\/Rule>/g)) {
    const rule = match[1];
    const id = element(rule, 'ID') ?? '';
    if (/<Status>Enabled<\/Status>/.test(rule) === false) continue;
    const expiration = element(rule, 'Expiration') ?? '';
    const days = element(expiration, 'Days');
    const date = element(expiration, 'Date');
    const marker = /<ExpiredObjectDeleteMarker>true<\/ExpiredObjectDeleteMarker>/.test(expiration);
    const transitions = [...rule.matchAll(/<Transition>([\s\S]*?)<\/Transition>/g)].map((t) => ({
      days: Number(element(t[1], 'Days')),
      storageClass: (element(t[1], 'StorageClass') ?? '').trim(),
    }));
    const noncurrent = element(element(rule, 'NoncurrentVersionExpiration') ?? '', 'NoncurrentDays');
    const abort = element(element(rule, 'AbortIncompleteMultipartUpload') ?? '', 'DaysAfterInitiation');
    rules.push({
      id,
      ...(days !== undefined ? { expirationDays: Number(days) } : {}),
      ...(date !== undefined ? { expirationDate: date.trim() } : {}),
      ...(marker ? { expiredObjectDeleteMarker: true } : {}),
      ...(transitions.length > 0 ? { transitions } : {}),
      ...(noncurrent !== undefined ? { noncurrentExpirationDays: Number(noncurrent) } : {}),
      ...(abort !== undefined ? { abortIncompleteUploadDays: Number(abort) } : {}),
    });
  }
  return rules;
}
