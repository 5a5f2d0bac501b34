import { isDns1123Label, isDns1123Subdomain, isLabelValue, isQualifiedKey, nameViolations } from './names';

/** The API server's name rules the OpenAPI schemas leave out (k8s.io/apimachinery/pkg/util/validation). */
describe('name rules', () => {
  it('DNS-1123 labels: lowercase alphanumerics and inner dashes, 63 at most', () => {
    expect(isDns1123Label('e-commerce-abc-7f3a9c')).toBe(true);
    expect(isDns1123Label('a'.repeat(63))).toBe(true);
    expect(isDns1123Label('a'.repeat(64))).toBe(false);
    for (const bad of ['Bad_Name', '-lead', 'trail-', 'has.dot', '']) expect(isDns1123Label(bad)).toBe(false);
  });

  it('DNS-1123 subdomains allow dots, 253 at most', () => {
    expect(isDns1123Subdomain('tenant-applications.argoproj.io')).toBe(true);
    expect(
      isDns1123Subdomain(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`),
    ).toBe(true);
    expect(
      isDns1123Subdomain(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`),
    ).toBe(false);
    expect(isDns1123Subdomain('a..b')).toBe(false);
  });

  it('label values: empty or 63 of [A-Za-z0-9-_.], alphanumeric at both ends', () => {
    expect(isLabelValue('')).toBe(true);
    expect(isLabelValue('Premium_1.0')).toBe(true);
    expect(isLabelValue('x'.repeat(64))).toBe(false);
    expect(isLabelValue('-x')).toBe(false);
    expect(isLabelValue('a b')).toBe(false);
  });

  it('qualified keys: optional DNS subdomain prefix, one slash at most', () => {
    expect(isQualifiedKey('managed-by')).toBe(true);
    expect(isQualifiedKey('app.kubernetes.io/name')).toBe(true);
    expect(isQualifiedKey('Bad_Prefix/name')).toBe(false);
    expect(isQualifiedKey('a/b/c')).toBe(false);
    expect(isQualifiedKey(`p/${'n'.repeat(64)}`)).toBe(false);
  });
});

describe('nameViolations', () => {
  it('accepts a valid object', () => {
    expect(
      nameViolations({
        kind: 'Deployment',
        metadata: { name: 'api-gateway', namespace: 'e-commerce-t', labels: { tier: 'premium' } },
      }),
    ).toEqual([]);
  });

  it('checks the name by kind: Namespace a label, Service DNS-1035, Job also a label value', () => {
    expect(nameViolations({ kind: 'Namespace', metadata: { name: 'Bad_Name' } }).join()).toMatch(
      /DNS-1123 label/,
    );
    expect(nameViolations({ kind: 'Namespace', metadata: { name: 'a.b' } }).join()).toMatch(/DNS-1123 label/);
    expect(nameViolations({ kind: 'ConfigMap', metadata: { name: 'a.b' } })).toEqual([]);
    expect(nameViolations({ kind: 'Service', metadata: { name: '1st' } }).join()).toMatch(/DNS-1035/);
    expect(nameViolations({ kind: 'Job', metadata: { name: 'j'.repeat(64) } }).join()).toMatch(
      /valid label value/,
    );
    expect(nameViolations({ kind: 'ConfigMap', metadata: {} })).toEqual(['metadata.name: required']);
  });

  it('checks the namespace, label values and annotation keys (not annotation values)', () => {
    const violations = nameViolations({
      kind: 'ConfigMap',
      metadata: {
        name: 'c',
        namespace: 'Bad_NS',
        labels: { tier: 'x'.repeat(64) },
        annotations: { 'bad key': 'ok', note: 'any value at all, spaces included' },
      },
    });
    expect(violations).toHaveLength(3);
    expect(violations.join('\n')).toMatch(/metadata.namespace/);
    expect(violations.join('\n')).toMatch(/metadata.labels.tier/);
    expect(violations.join('\n')).toMatch(/metadata.annotations: key "bad key"/);
  });
});
