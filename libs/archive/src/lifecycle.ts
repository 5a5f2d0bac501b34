/** S3 bucket lifecycle configurations: the archive bucket's rules, and the XML both services write and read. */
export interface LifecycleRuleSpec {
  id: string;
  expirationDays?: number;
  expiredObjectDeleteMarker?: boolean;
  /** Parts of a multipart upload never completed (a writer killed mid-upload) are removed after these days. */
  abortIncompleteUploadDays?: number;
}

/** Days after which the archive bucket drops the parts of an upload a killed backup never completed. */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 1;

/**
 * Rules of the archive bucket: the parts of an upload cut by a crash (a bucket mirror or a database dump:
 * large objects go up in parts) are always removed after a day, since no manifest points at them and nobody else would ever find that
 * copy of tenant data; and the final backups (every tenant's `<tenantId>/` prefix) expire `days` after they
 * were written, 0 meaning they are kept until removed by hand.
 */
export function archiveLifecycleRules(days: number): LifecycleRuleSpec[] {
  if (!Number.isInteger(days) || days < 0) throw new Error(`invalid archive retention ${days}`);
  const abort = { id: 'abort-incomplete-uploads', abortIncompleteUploadDays: ABORT_INCOMPLETE_UPLOAD_DAYS };
  return days === 0 ? [abort] : [abort, { id: 'archive-retention', expirationDays: days }];
}

export function renderLifecycleXml(rules: LifecycleRuleSpec[]): string {
  const body = rules
    .map((rule) => {
      if (!/^[A-Za-z0-9-]{1,255}$/.test(rule.id)) throw new Error(`invalid lifecycle rule id ${rule.id}`);
      const action =
        rule.abortIncompleteUploadDays !== undefined
          ? `<AbortIncompleteMultipartUpload><DaysAfterInitiation>${Math.trunc(rule.abortIncompleteUploadDays)}</DaysAfterInitiation></AbortIncompleteMultipartUpload>`
          : rule.expirationDays !== undefined
            ? `<Expiration><Days>${Math.trunc(rule.expirationDays)}</Days></Expiration>`
            : `<Expiration><ExpiredObjectDeleteMarker>${rule.expiredObjectDeleteMarker === true}</ExpiredObjectDeleteMarker></Expiration>`;
      return (
        `<Rule><ID>${rule.id}</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>` +
        `${action}</Rule>`
      );
    })
    .join('');
  return `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</LifecycleConfiguration>`;
}

/** Reads back the rules a server reports (its XML may use `<Prefix>` or `<Filter>`, in any order). */
export function parseLifecycleXml(xml: string): LifecycleRuleSpec[] {
  const rules: LifecycleRuleSpec[] = [];
  for (const match of xml.matchAll(/<Rule>([\s\S]*?)<\/Rule>/g)) {
    const rule = match[1];
    const id = /<ID>([^<]*)<\/ID>/.exec(rule)?.[1] ?? '';
    if (/<Status>Enabled<\/Status>/.test(rule) === false) continue;
    const days = /<Expiration>[\s\S]*?<Days>(\d+)<\/Days>[\s\S]*?<\/Expiration>/.exec(rule)?.[1];
    const marker = /<ExpiredObjectDeleteMarker>true<\/ExpiredObjectDeleteMarker>/.test(rule);
    const abort =
      /<AbortIncompleteMultipartUpload>[\s\S]*?<DaysAfterInitiation>(\d+)<\/DaysAfterInitiation>/.exec(
        rule,
      )?.[1];
    rules.push({
      id,
      ...(days !== undefined ? { expirationDays: Number(days) } : {}),
      ...(marker ? { expiredObjectDeleteMarker: true } : {}),
      ...(abort !== undefined ? { abortIncompleteUploadDays: Number(abort) } : {}),
    });
  }
  return rules;
}
