import assert from 'node:assert/strict';
import type { SteeringRule } from '../../common/protocol';
import { ruleFor, toggledDisable, toggledRules } from '../../common/steeringRules';
import { validateRules } from '../../server/routing/expertBias';

const info = { layers: 4, experts: 16, topK: 2 };

describe('steering rule edits (Experts tree checkboxes)', () => {
  it('unchecking adds a disable rule for that layer only, replacing a force rule there', () => {
    const rules: SteeringRule[] = [{ layer: 1, expert: 5, mode: 'force' }, { layer: 2, expert: 7, mode: 'bias', bias: 2 }];
    const out = toggledRules(rules, 4, 1, 5, false);
    assert.deepEqual(out, [{ layer: 2, expert: 7, mode: 'bias', bias: 2 }, { layer: 1, expert: 5, mode: 'disable' }]);
    assert.deepEqual(validateRules(out, info), out);
  });

  it('re-checking one layer of an all-layers rule splits it into the other layers', () => {
    const out = toggledRules([{ layer: '*', expert: 3, mode: 'disable' }], 4, 2, 3, true);
    assert.deepEqual(out.map((r) => r.layer), [0, 1, 3]);
    assert.equal(ruleFor(out, 2, 3), undefined);
    assert.equal(ruleFor(out, 0, 3)?.mode, 'disable');
    assert.deepEqual(validateRules(out, info), out);
  });

  it('unchecking a layer under an all-layers disable rule keeps every layer disabled, each once', () => {
    const out = toggledRules([{ layer: '*', expert: 3, mode: 'disable' }], 4, 0, 3, false);
    assert.deepEqual(out.map((r) => r.layer).sort(), [0, 1, 2, 3]);
    assert.doesNotThrow(() => validateRules(out, info));
  });

  it('ruleFor finds per-layer and all-layers rules, nothing for other experts', () => {
    const rules: SteeringRule[] = [{ layer: '*', expert: 1, mode: 'force' }, { layer: 2, expert: 4, mode: 'disable' }];
    assert.equal(ruleFor(rules, 3, 1)?.layer, '*');
    assert.equal(ruleFor(rules, 2, 4)?.mode, 'disable');
    assert.equal(ruleFor(rules, 1, 4), undefined);
  });

  it('Toggle Expert at Cursor sees an all-layers rule: re-enables one layer of a "*" disable, never adds a duplicate', () => {
    const all: SteeringRule[] = [{ layer: '*', expert: 3, mode: 'disable' }];
    const on = toggledDisable(all, 4, 2, 3);
    assert.equal(ruleFor(on, 2, 3), undefined);
    assert.deepEqual(on.map((r) => r.layer), [0, 1, 3]);
    assert.deepEqual(validateRules(on, info), on);
    const forced: SteeringRule[] = [{ layer: '*', expert: 5, mode: 'force' }];
    const off = toggledDisable(forced, 4, 1, 5);
    assert.equal(ruleFor(off, 1, 5)?.mode, 'disable');
    assert.equal(ruleFor(off, 0, 5)?.mode, 'force');
    assert.deepEqual(validateRules(off, info), off, 'the server accepts it (no second rule for layer 1, expert 5)');
    assert.deepEqual(toggledDisable(toggledDisable([], 4, 0, 7), 4, 0, 7), []);
  });
});
