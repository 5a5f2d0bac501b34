import type { Controller, ObjectStore, Stored } from './fake-api-store';

/**
 * The API double's cert-manager: a Certificate `Ready` after a delay, and its TLS Secret when `issueTlsSecrets`
 * is set. Certificates named in `pending` are never issued (an ACME challenge that cannot be solved).
 */
export class CertManager implements Controller {
  readonly kind = 'Certificate';

  constructor(
    private readonly store: ObjectStore,
    private readonly certificateDelayMs: number,
    readonly pending: Set<string>,
    private readonly issueTlsSecrets: boolean,
  ) {}

  start(key: string, certificate: Stored): void {
    this.store.reconcile(key, certificate, this.certificateDelayMs, (current, due) =>
      this.sync(current, due),
    );
  }

  private sync(certificate: Stored, due: boolean): void {
    const generation = certificate.metadata.generation;
    const now = new Date();
    const issued = due && !this.pending.has(certificate.metadata.name);
    const secretName = (certificate.spec as { secretName?: string } | undefined)?.secretName;
    const condition = (type: string, status: 'True' | 'False', reason: string, message: string) => ({
      type,
      status,
      reason,
      message,
      observedGeneration: generation,
      lastTransitionTime: now.toISOString(),
    });
    if (!issued) {
      const missing = 'Issuing certificate as Secret does not exist';
      certificate.status = {
        conditions: [
          condition('Ready', 'False', 'DoesNotExist', missing),
          condition('Issuing', 'True', 'DoesNotExist', missing),
        ],
      };
    } else {
      const day = 24 * 3600 * 1000;
      certificate.status = {
        conditions: [condition('Ready', 'True', 'Ready', 'Certificate is up to date and has not expired')],
        notBefore: now.toISOString(),
        notAfter: new Date(now.getTime() + 90 * day).toISOString(),
        renewalTime: new Date(now.getTime() + 60 * day).toISOString(),
        revision: 1,
      };
      if (this.issueTlsSecrets && secretName) {
        // Placeholder bytes, not a key pair: nothing here reads them as TLS material.
        this.store.put({
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'kubernetes.io/tls',
          metadata: {
            name: secretName,
            namespace: certificate.metadata.namespace,
            annotations: { 'cert-manager.io/certificate-name': certificate.metadata.name },
          },
          data: {
            'tls.crt': Buffer.from('fake certificate').toString('base64'),
            'tls.key': Buffer.from('fake key').toString('base64'),
          },
        });
      }
    }
    certificate.metadata.resourceVersion = this.store.nextResourceVersion();
  }
}
