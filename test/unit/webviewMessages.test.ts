import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { RoutingResult } from '../../common/protocol';
import { isPanelState, parseHostMessage, parseWebviewMessage } from '../../common/webviewMessages';
import { panelHtml } from '../../extension/panel/panelHtml';

const fixture = JSON.parse(readFileSync('test/fixtures/routing-python.json', 'utf8')) as { text: string; result: RoutingResult };
const texts = (r: RoutingResult) => Array.from({ length: r.tokens }, (_, t) => fixture.text.slice(r.offsets[2 * t], r.offsets[2 * t + 1]));
const routing = (result: unknown, tokenTexts: unknown = texts(fixture.result)) => ({ type: 'routing', uri: 'file:///a.py', fileName: 'a.py', result, tokenTexts });

describe('webview messages: validators', () => {
  it('accepts a recorded routing result and the other host messages', () => {
    assert.equal(parseHostMessage(routing(fixture.result))?.type, 'routing');
    assert.equal(parseHostMessage({ type: 'selection', uri: 'u', start: 3, end: 5 })?.type, 'selection');
    assert.equal(parseHostMessage({ type: 'contrastive', rows: [{ layer: 0, expert: 1, pA: 0.5, pB: 0.1, deltaP: 0.4, label: 'x' }] })?.type, 'contrastive');
    assert.equal(parseHostMessage({ type: 'steering', rules: [{ layer: '*', expert: 2, mode: 'disable' }, { layer: 1, expert: 0, mode: 'bias', bias: -2 }] })?.type, 'steering');
    assert.equal(parseHostMessage({ type: 'clear', reason: 'no model' })?.type, 'clear');
  });

  it('rejects routing results whose arrays disagree with the header or hold bad values', () => {
    const r = fixture.result;
    const bad: [string, unknown][] = [
      ['short experts', { ...r, experts: r.experts.slice(1) }],
      ['expert out of range', { ...r, experts: [r.model.experts, ...r.experts.slice(1)] }],
      ['NaN weight', { ...r, weights: [NaN, ...r.weights.slice(1)] }],
      ['string tokens', { ...r, tokens: String(r.tokens) }],
      ['no model', { ...r, model: undefined }],
      ['zero layers', { ...r, model: { ...r.model, layers: 0 } }],
      ['bad labels', { ...r, model: { ...r.model, labels: [[1, 2]] } }],
      ['short baseline', { ...r, baselineExperts: [0] }],
    ];
    for (const [why, res] of bad) assert.equal(parseHostMessage(routing(res)), undefined, why);
    assert.equal(parseHostMessage(routing(r, texts(r).slice(1))), undefined, 'token texts of the wrong length');
  });

  it('rejects unknown, malformed and garbage host messages', () => {
    const garbage = [null, undefined, 42, 'routing', [], { type: 'nope' }, { type: 'selection', uri: 'u', start: 5, end: 3 }, { type: 'selection', uri: 1, start: 0, end: 0 },
      { type: 'steering', rules: [{ layer: 0, expert: -1, mode: 'disable' }] }, { type: 'steering', rules: [{ layer: 0, expert: 1, mode: 'bias' }] },
      { type: 'contrastive', rows: [{ layer: 0, expert: 0, pA: '1', pB: 0, deltaP: 0 }] }, { type: 'clear' },
      { type: 'routing', uri: 'u', fileName: 'f', result: { model: {} }, tokenTexts: [] }, { type: 'x'.repeat(100000) }];
    for (const g of garbage) assert.equal(parseHostMessage(g), undefined, JSON.stringify(g)?.slice(0, 80));
  });

  it('webview -> host: valid messages pass with only their own fields', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready', extra: 1 }), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'revealToken', uri: 'u', index: 2, start: 4, end: 9, evil: true }), { type: 'revealToken', uri: 'u', index: 2, start: 4, end: 9 });
    assert.deepEqual(parseWebviewMessage({ type: 'steer', rule: { layer: 1, expert: 3, mode: 'disable', x: 1 } }), { type: 'steer', rule: { layer: 1, expert: 3, mode: 'disable' } });
    assert.deepEqual(parseWebviewMessage({ type: 'resetExpert', layer: '*', expert: 3 }), { type: 'resetExpert', layer: '*', expert: 3 });
    const state = { view: 'load', metric: 'gate', layer: 1, windowStart: 256 };
    assert.deepEqual(parseWebviewMessage({ type: 'stateChanged', state: { ...state, junk: [] } }), { type: 'stateChanged', state });
  });

  it('webview -> host: malformed messages are rejected', () => {
    const bad = [{}, { type: 'revealToken', uri: 'u', index: 1, start: 5, end: 2 }, { type: 'revealToken', uri: 'u', index: -1, start: 0, end: 1 },
      { type: 'steer', rule: { layer: 1, expert: 1.5, mode: 'disable' } }, { type: 'steer', rule: { layer: 1, expert: 1, mode: 'explode' } },
      { type: 'resetExpert', layer: 'all', expert: 1 }, { type: 'stateChanged', state: { view: 'pie', metric: 'expert', layer: 0, windowStart: 0 } }, { type: '__proto__' }, 'ready'];
    for (const b of bad) assert.equal(parseWebviewMessage(b), undefined, JSON.stringify(b));
    assert.equal(isPanelState({ view: 'heatmap', metric: 'expert', layer: 0 }), false, 'windowStart missing');
  });

  it('panelHtml: strict CSP with the nonce, no inline script, every resource from the given URIs', () => {
    const html = panelHtml({ cspSource: 'https://x.test', nonce: 'abc123', scriptUri: 'https://x.test/dist/webview.js', styleUri: 'https://x.test/media/webview/panel.css', codiconUri: 'https://x.test/dist/codicon.css' });
    const csp = /Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-abc123'(;|$)/);
    assert.doesNotMatch(csp, /script-src[^;]*unsafe/);
    assert.match(html, /<script type="module" nonce="abc123" src="https:\/\/x.test\/dist\/webview.js">/);
    assert.equal((html.match(/<script/g) ?? []).length, 1, 'one script, no inline code');
    assert.match(html, /id="vscode-codicon-stylesheet"/);
  });
});
