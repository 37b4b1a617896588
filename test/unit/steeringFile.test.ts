import assert from 'node:assert/strict';
import type { NextTokenChangeResult, SteeringRule } from '../../common/protocol';
import { nextTokenMarkdown } from '../../extension/hover/nextTokenMarkdown';
import { parseSteeringFile, SteeringFileError, STEERING_FORMAT, toSteeringFile } from '../../extension/steering/steeringFile';
import { rulesForRanking } from '../../common/steeringRules';
import { validateRules } from '../../server/routing/expertBias';

const rules: SteeringRule[] = [
  { layer: 0, expert: 3, mode: 'disable' },
  { layer: '*', expert: 7, mode: 'force' },
  { layer: 2, expert: 1, mode: 'bias', bias: -1.5 },
];

describe('steering files (export / import)', () => {
  it('round-trips the rules through the exported JSON, with a plain (layer, expert, action) list', () => {
    const file = toSteeringFile(rules, 'moe-lens-tiny-16e', 'my preset');
    assert.equal(file.format, STEERING_FORMAT);
    assert.deepEqual(file.actions[0], { layer: 0, expert: 3, action: 'disable' });
    assert.deepEqual(file.actions[2], { layer: 2, expert: 1, action: 'bias', bias: -1.5 });
    const back = parseSteeringFile(JSON.stringify(file));
    assert.deepEqual(back, { rules, model: 'moe-lens-tiny-16e', name: 'my preset' });
  });

  it('reads the shapes other tools write: tuples, {mode} objects, "rules" objects, "all" layers', () => {
    assert.deepEqual(parseSteeringFile('[[1, 2, "disable"], [0, 5, "bias", 2]]').rules, [
      { layer: 1, expert: 2, mode: 'disable' },
      { layer: 0, expert: 5, mode: 'bias', bias: 2 },
    ]);
    assert.deepEqual(parseSteeringFile('{"rules": [{"layer": "all", "expert": 4, "mode": "force"}]}').rules, [{ layer: '*', expert: 4, mode: 'force' }]);
    assert.deepEqual(parseSteeringFile('[]').rules, []);
  });

  it('refuses bad input with a message naming the entry, and never returns part of it', () => {
    const bad: [string, RegExp][] = [
      ['{not json', /not valid JSON/],
      ['42', /expected an array/],
      ['{"format": "other/2", "actions": []}', /unknown format "other\/2"/],
      ['[[0, 1, "disable"], [0, -1, "disable"]]', /entries\[1\]: "expert" must be an integer/],
      ['[{"layer": 1.5, "expert": 1, "action": "force"}]', /entries\[0\]: "layer"/],
      ['{"actions": [{"layer": 0, "expert": 1, "action": "explode"}]}', /actions\[0\]: "action" must be one of disable, force, bias/],
      ['[[0, 1, "bias"]]', /needs a finite number "bias"/],
      ['[[0, 1, "disable"], [0, 1, "force"]]', /expert 1 at layer 0 appears twice/],
      ['["disable"]', /entries\[0\]/],
    ];
    for (const [text, why] of bad) assert.throws(() => parseSteeringFile(text), (e: unknown) => e instanceof SteeringFileError && why.test((e as Error).message), text);
  });
});

describe('rules from a contrastive ranking', () => {
  const ranked = [
    { layer: 1, expert: 4 },
    { layer: 1, expert: 9 },
    { layer: 1, expert: 2 },
    { layer: 3, expert: 0 },
  ];

  it('disables the first n, keeping rules for other experts and replacing ones for the same expert', () => {
    const out = rulesForRanking([{ layer: 1, expert: 4, mode: 'force' }, { layer: 0, expert: 0, mode: 'disable' }], ranked, 3, 'disable', 2);
    assert.deepEqual(out, [
      { layer: 0, expert: 0, mode: 'disable' },
      { layer: 1, expert: 4, mode: 'disable' },
      { layer: 1, expert: 9, mode: 'disable' },
      { layer: 1, expert: 2, mode: 'disable' },
    ]);
  });

  it('forces at most top-k experts per layer (the server would refuse more) and moves on down the ranking', () => {
    const out = rulesForRanking([], ranked, 3, 'force', 2);
    assert.deepEqual(out.map((r) => `${r.layer}/${r.expert}`), ['1/4', '1/9', '3/0']);
    assert.deepEqual(validateRules(out, { layers: 4, experts: 16, topK: 2 }), out);
  });
});

describe('next-token hover', () => {
  it('lists baseline and steered top tokens with probabilities and the KL divergence', () => {
    const r: NextTokenChangeResult = {
      position: 3,
      range: [10, 14],
      baseline: [{ id: 1, text: ' return', p: 0.5 }, { id: 2, text: '\n', p: 0.2 }, { id: 3, text: '(', p: 0.1 }],
      steered: [{ id: 2, text: '\n', p: 0.4 }, { id: 1, text: ' return', p: 0.3 }, { id: 4, text: '|', p: 0.05 }],
      klNats: 0.1234,
      rulesActive: true,
    };
    const md = nextTokenMarkdown(r);
    assert.match(md, /KL\(baseline ‖ steered\) = 0\.123 nats/);
    assert.match(md, /\| 1 \| \*\*·return\*\* 50\.0% \| \*\*↵\*\* 40\.0% \|/);
    assert.match(md, /\| 3 \| \*\*\\\(\*\* 10\.0% \| \*\*\\\|\*\* 5\.0% \|/);
    assert.match(md, /changes the most likely next token/);
    assert.doesNotMatch(nextTokenMarkdown({ ...r, steered: r.baseline, klNats: 0 }), /changes the most likely/);
  });
});
