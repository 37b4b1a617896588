// The importer's JSON progress lines (common/importEvents.ts) as the extension reads them from the child's stdout.
import assert from 'node:assert/strict';
import { describeImportProgress, importFraction, LineSplitter, parseImportEvent, type ImportProgressEvent } from '../../common/importEvents';

const progress = (phase: ImportProgressEvent['phase'], bytesDone: number, tensorsDone = 0): ImportProgressEvent => ({ event: 'progress', phase, bytesDone, bytesTotal: 2e9, tensorsDone, tensorsTotal: 400 });

describe('import progress events', () => {
  it('parses each event kind and refuses malformed ones', () => {
    const p = progress('weights', 1e9, 200);
    assert.deepEqual(parseImportEvent(JSON.stringify(p)), p);
    const done = { event: 'done', outDir: '/m', name: 'x', architecture: 'MixtralForCausalLM', layers: 2, routerLayers: 2, experts: 8, topK: 2, bytesRead: 5, tensorsRead: 3, unused: [] };
    assert.deepEqual(parseImportEvent(` ${JSON.stringify(done)}\r`), done);
    const err = { event: 'error', message: 'config.json (architectures): unsupported', file: 'config.json', field: 'architectures' };
    assert.deepEqual(parseImportEvent(JSON.stringify(err)), err);
    assert.deepEqual(parseImportEvent('{"event":"cancelled"}'), { event: 'cancelled' });
    for (const bad of [
      '',
      'moe-lens import: 1.0 / 2.0 MB',
      '{not json',
      '[1,2]',
      '{"event":"progress","phase":"weights","bytesDone":1,"bytesTotal":2,"tensorsDone":1}', // a count missing
      '{"event":"progress","phase":"baking","bytesDone":1,"bytesTotal":2,"tensorsDone":1,"tensorsTotal":2}',
      '{"event":"progress","phase":"weights","bytesDone":-1,"bytesTotal":2,"tensorsDone":1,"tensorsTotal":2}',
      '{"event":"done","outDir":"/m","name":"x","architecture":"A","layers":2,"experts":8,"topK":2,"bytesRead":5,"tensorsRead":3,"unused":[]}', // no routerLayers
      '{"event":"error","message":42}',
      '{"event":"error","message":"m","file":3}',
      '{"event":"finished"}',
    ]) assert.equal(parseImportEvent(bad), undefined, bad);
  });

  it('splits chunks into lines whatever the chunk boundaries, CRLF included', () => {
    const text = '{"event":"cancelled"}\r\nsecond line\n\nlast without newline';
    for (let cut = 0; cut <= text.length; cut++) {
      const s = new LineSplitter();
      const lines = [...s.push(text.slice(0, cut)), ...s.push(text.slice(cut)), ...s.end()];
      assert.deepEqual(lines, ['{"event":"cancelled"}', 'second line', '', 'last without newline'], `cut at ${cut}`);
    }
    assert.deepEqual(new LineSplitter().end(), []);
  });

  it('the fraction grows through the phases and stays within 0..1', () => {
    const seq = [progress('weights', 0), progress('weights', 1e9, 100), progress('weights', 2e9, 400), progress('hashing', 2e9), progress('verifying', 2e9), progress('done', 2e9)];
    const f = seq.map(importFraction);
    assert.deepEqual(f, [0, 0.45, 0.9, 0.9, 0.95, 1]);
    assert.equal(importFraction({ ...progress('weights', 0, 2), bytesTotal: 0, tensorsTotal: 4 }), 0.45, 'tensors count when there are no bytes');
    assert.equal(importFraction({ ...progress('weights', 0), bytesTotal: 0, tensorsTotal: 0 }), 0);
  });

  it('describes progress in bytes and tensors', () => {
    assert.equal(describeImportProgress(progress('weights', 412e6, 120)), '412.0 MB / 2.00 GB · 120 / 400 tensors');
    assert.match(describeImportProgress(progress('hashing', 2e9)), /hashing.*2\.00 GB/);
    assert.match(describeImportProgress(progress('verifying', 2e9)), /onnxruntime/);
  });
});
