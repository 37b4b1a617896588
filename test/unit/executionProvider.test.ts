import assert from 'node:assert/strict';
import { providerCandidates, supportedBackends } from '../../server/model/executionProvider';

const withCuda = [{ name: 'cpu', bundled: true }, { name: 'webgpu', bundled: true }, { name: 'cuda', bundled: false }];
const cpuOnly = [{ name: 'cpu', bundled: true }];

describe('execution provider choice', () => {
  it('named providers are tried alone, so a missing one fails instead of silently falling back', () => {
    assert.deepEqual(providerCandidates('cpu', withCuda, true), ['cpu']);
    assert.deepEqual(providerCandidates('cuda', cpuOnly, false), ['cuda']);
    assert.deepEqual(providerCandidates('webgpu', withCuda, false), ['webgpu']);
  });
  it('auto: CUDA first only when onnxruntime lists it and its library is installed, then CPU', () => {
    assert.deepEqual(providerCandidates('auto', withCuda, true), ['cuda', 'cpu']);
    assert.deepEqual(providerCandidates('auto', withCuda, false), ['cpu']);
    assert.deepEqual(providerCandidates('auto', cpuOnly, true), ['cpu']);
  });
  it('onnxruntime-node lists its backends with a bundled flag, CPU among them', () => {
    const cpu = supportedBackends().find((b) => b.name === 'cpu');
    assert.deepEqual(cpu, { name: 'cpu', bundled: true });
  });
});
