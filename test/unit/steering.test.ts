import assert from 'node:assert/strict';
import { biasFromRules, SteeringError, steeringKey, validateRules } from '../../server/routing/expertBias';

const info = { layers: 4, experts: 16, topK: 2 };
const manifest = { router: { function: 'softmax-topk-renormalized', disableBias: -1e9, forceBias: 1e9 } };

describe('steering rules', () => {
  const bad: [string, unknown, RegExp][] = [
    ['unknown layer', [{ layer: 0, expert: 1, mode: 'disable' }, { layer: 7, expert: 3, mode: 'force' }], /^rule 1 \(layer 7, expert 3, force\): layer 7 does not exist \(model has 4 layers/],
    ['negative layer', [{ layer: -1, expert: 1, mode: 'disable' }], /rule 0 .*layer -1 does not exist/],
    ['non-integer layer', [{ layer: 1.5, expert: 1, mode: 'disable' }], /rule 0 .*layer 1.5 does not exist/],
    ['layer as a string', [{ layer: '2', expert: 1, mode: 'disable' }], /rule 0 .*layer 2 does not exist/],
    ['unknown expert', [{ layer: 0, expert: 16, mode: 'disable' }], /rule 0 .*expert 16 does not exist/],
    ['non-integer expert', [{ layer: 0, expert: 1.5, mode: 'disable' }], /expert 1.5 does not exist/],
    ['unknown mode', [{ layer: 0, expert: 1, mode: 'mute' }], /unknown mode "mute"/],
    ['bias without a number', [{ layer: 0, expert: 1, mode: 'bias' }], /rule 0 .*needs a finite number "bias" \(got undefined\)/],
    ['bias NaN', [{ layer: 0, expert: 1, mode: 'bias', bias: NaN }], /rule 0 .*needs a finite number "bias" \(got NaN\)/],
    ['bias Infinity', [{ layer: 0, expert: 1, mode: 'bias', bias: Infinity }], /needs a finite number "bias" \(got Infinity\)/],
    ['bias as a string', [{ layer: 0, expert: 1, mode: 'bias', bias: '2' }], /needs a finite number "bias" \(got "2"\)/],
    ['a rule that is not an object', [null], /rule 0: not an object/],
    ['too many forced', [{ layer: 1, expert: 1, mode: 'force' }, { layer: 1, expert: 2, mode: 'force' }, { layer: '*', expert: 3, mode: 'force' }], /rule 2 .*more forced experts in layer 1 than the 2/],
    ['duplicate', [{ layer: 0, expert: 1, mode: 'disable' }, { layer: '*', expert: 1, mode: 'force' }], /rule 1 .*already set by rule 0/],
    ['not an array', { layer: 0 }, /must be an array/],
  ];
  for (const [name, rules, re] of bad) {
    it(`refuses ${name}`, () => assert.throws(() => validateRules(rules, info), (e: Error) => e instanceof SteeringError && re.test(e.message)));
  }
  it('builds the bias tensor at [l*E+e], with "*" for every layer', () => {
    const rules = validateRules([{ layer: 2, expert: 5, mode: 'disable' }, { layer: '*', expert: 3, mode: 'force' }, { layer: 0, expert: 0, mode: 'bias', bias: 1.5 }], info);
    const b = biasFromRules(rules, info, manifest);
    assert.equal(b.length, 64);
    assert.equal(b[2 * 16 + 5], -1e9);
    for (let l = 0; l < 4; l++) assert.equal(b[l * 16 + 3], 1e9);
    assert.equal(b[0], 1.5);
    assert.equal(b.filter((x) => x !== 0).length, 6);
  });
  it('accepts valid rules and drops what they do not need', () => {
    const rules = validateRules([{ layer: 3, expert: 15, mode: 'force', bias: 2, extra: true }, { layer: '*', expert: 0, mode: 'bias', bias: -2.5 }], info);
    assert.deepEqual(rules, [{ layer: 3, expert: 15, mode: 'force' }, { layer: '*', expert: 0, mode: 'bias', bias: -2.5 }]);
    assert.deepEqual(validateRules([], info), []);
  });
  it('topK forced experts in one layer are allowed, across layers they do not add up', () => {
    const rules = validateRules([{ layer: 1, expert: 1, mode: 'force' }, { layer: 1, expert: 2, mode: 'force' }, { layer: 2, expert: 1, mode: 'force' }], info);
    assert.equal(rules.length, 3);
  });
  it('no rules: all-zero bias and an empty key', () => {
    assert.ok(biasFromRules([], info, manifest).every((x) => x === 0));
    assert.equal(steeringKey([]), '');
  });
  it('the key does not depend on rule order', () => {
    const a = [{ layer: 0, expert: 1, mode: 'disable' as const }, { layer: 1, expert: 2, mode: 'force' as const }];
    assert.equal(steeringKey(a), steeringKey([...a].reverse()));
  });
});
