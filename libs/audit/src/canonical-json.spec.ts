import fc from 'fast-check';
import { canonicalJson } from './canonical-json';
import { AuditError } from './errors';

function fromHex(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}

describe('canonicalJson (RFC 8785)', () => {
  it('reproduces the RFC 8785 section 3.2.2 example', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    ) as unknown;
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts member names by UTF-16 code units (RFC 8785 section 3.2.3)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // U+1F600 (surrogates D83D DE00) sorts before U+FB33 by code units, though after it by code points.
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('serialises the IEEE 754 value %s as %s (RFC 8785 appendix B)', (hex, expected) => {
    expect(canonicalJson(fromHex(hex))).toBe(expected);
  });

  it('writes common numbers in ECMAScript form', () => {
    expect(canonicalJson([1e21, 1e20, -0, 0.1, 0.1 + 0.2, 1.5e-7, 100, 4.5])).toBe(
      '[1e+21,100000000000000000000,0,0.1,0.30000000000000004,1.5e-7,100,4.5]',
    );
  });

  it('escapes only what JSON requires and keeps other characters literal', () => {
    expect(canonicalJson('a"b\\c\b\f\n\r\t\u0001\u001f\u007f é 😀 /')).toBe(
      '"a\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\u007f é 😀 /"',
    );
  });

  it('nests without whitespace and sorts at every level', () => {
    expect(canonicalJson({ b: [{ z: 1, a: { y: null, x: true } }], a: 'x' })).toBe(
      '{"a":"x","b":[{"a":{"x":true,"y":null},"z":1}]}',
    );
  });

  it('follows JSON.stringify for toJSON and undefined, so a stored round trip hashes the same', () => {
    const value = { at: new Date('2024-05-01T10:00:00.000Z'), gone: undefined, list: [undefined, 1] };
    expect(canonicalJson(value)).toBe('{"at":"2024-05-01T10:00:00.000Z","list":[null,1]}');
    expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(canonicalJson(value));
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a bigint', 10n],
    ['a lone high surrogate', 'x\ud800y'],
    ['a lone low surrogate', '\udc00'],
    ['a lone surrogate in a key', { '\ud83d': 1 }],
    ['undefined', undefined],
  ])('refuses %s with AUDIT.NOT_CANONICALIZABLE', (_label, value) => {
    expect(() => canonicalJson(value)).toThrow(AuditError);
    try {
      canonicalJson(value);
    } catch (error) {
      expect((error as AuditError).code).toBe('AUDIT.NOT_CANONICALIZABLE');
    }
  });

  it('refuses cycles but accepts a shared (acyclic) reference', () => {
    const shared = { a: 1 };
    expect(canonicalJson({ x: shared, y: shared })).toBe('{"x":{"a":1},"y":{"a":1}}');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
  });

  it('is valid JSON that parses back to the same value, whatever the member order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(text).toBe(canonicalJson(JSON.parse(text)));
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(text).not.toMatch(/^\s|\s$/);
      }),
    );
  });

  it('does not depend on insertion order of members', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (record) => {
        const reversed = Object.fromEntries(Object.entries(record).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(record));
      }),
    );
  });
});
