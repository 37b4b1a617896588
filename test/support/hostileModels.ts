// Hostile model directories for the reliability tests (issue 12 items 5 and 6): copies of the embedded model with one
// thing made dangerous — a path that leaves the folder, a link to /dev/zero, a FIFO, an oversized file — or a graph
// with the right names that returns NaN gate weights or expert ids outside [0, E).
// The broken graphs are the real model.onnx plus a few nodes: protobuf concatenation merges messages, so appending
// a serialized ModelProto { graph { node..., output... } } to the file adds nodes and outputs to its graph. moe.json
// then names the new output instead of the original one.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, cpSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedModel } from './paths';

// --- a minimal protobuf writer (varints and length-delimited fields are all ONNX needs here) ---
const varint = (n: number | bigint): number[] => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
};
const tag = (field: number, wire: number) => varint((field << 3) | wire);
const bytesField = (field: number, data: Uint8Array | number[]): number[] => [...tag(field, 2), ...varint(data.length), ...data];
const strField = (field: number, s: string) => bytesField(field, [...Buffer.from(s, 'utf8')]);
const intField = (field: number, n: number | bigint) => [...tag(field, 0), ...varint(n)];

/** TensorProto: a scalar (dims []) of FLOAT (1) or INT64 (7) in raw_data. */
function scalarTensor(kind: 'float' | 'int64', value: number): number[] {
  const raw = Buffer.alloc(kind === 'float' ? 4 : 8);
  if (kind === 'float') raw.writeFloatLE(value);
  else raw.writeBigInt64LE(BigInt(value));
  return [...intField(2, kind === 'float' ? 1 : 7), ...bytesField(9, [...raw])];
}

/** NodeProto */
function node(op: string, inputs: string[], outputs: string[], name: string, attrs: number[][] = []): number[] {
  return [...inputs.flatMap((i) => strField(1, i)), ...outputs.flatMap((o) => strField(2, o)), ...strField(3, name), ...strField(4, op), ...attrs.flatMap((a) => bytesField(5, a))];
}

/** AttributeProto "value" holding a tensor (type TENSOR = 4). */
const tensorAttr = (t: number[]) => [...strField(1, 'value'), ...bytesField(5, t), ...intField(20, 4)];

/** ValueInfoProto for a tensor output of element type FLOAT (1) or INT64 (7), shape left open. */
const outputInfo = (name: string, kind: 'float' | 'int64') => [...strField(1, name), ...bytesField(2, bytesField(1, intField(1, kind === 'float' ? 1 : 7)))];

/**
 * Bytes to append to a ModelProto so that its graph gains `out` = op(`input`, constant) as a new output.
 * E.g. Mul(expert_weights, NaN) or Add(expert_ids, 99).
 */
export function extraOutput(input: string, op: 'Mul' | 'Add', constant: number, kind: 'float' | 'int64', out: string): Buffer {
  const c = `${out}__const`;
  const graph = [
    ...bytesField(1, node('Constant', [], [c], `${out}__c`, [tensorAttr(scalarTensor(kind, constant))])),
    ...bytesField(1, node(op, [input, c], [out], `${out}__op`)),
    ...bytesField(12, outputInfo(out, kind)),
  ];
  return Buffer.from(bytesField(7, graph));
}

/** A fresh copy of the embedded model (model.onnx copied, so it can be edited), without the declared sha256. */
export function modelCopy(prefix = 'moe-lens-hostile-'): string {
  // <fresh temp folder>/model: "../x" from the model folder stays inside this test's own folder
  const dir = join(mkdtempSync(join(tmpdir(), prefix)), 'model');
  cpSync(embeddedModel, dir, { recursive: true });
  editManifest(dir, (m) => delete m.provenance.sha256);
  return dir;
}

/**
 * A fresh copy of the embedded model without the expert labels it ships (moe.json profileCorpus.labels): a server on
 * it computes the labels (and caches them in a client folder), as on a model that never had them.
 */
export function modelCopyWithoutLabels(prefix = 'moe-lens-nolabels-'): string {
  const dir = modelCopy(prefix);
  editManifest(dir, (m) => {
    rmSync(join(dir, m.profileCorpus.labels), { force: true });
    delete m.profileCorpus.labels;
  });
  return dir;
}

export function editManifest(dir: string, edit: (m: Record<string, any>) => void): void {
  const p = join(dir, 'moe.json');
  const m = JSON.parse(readFileSync(p, 'utf8'));
  edit(m);
  writeFileSync(p, JSON.stringify(m, null, 1));
}

/** A graph whose routing output `which` is broken: NaN gate weights, or expert ids shifted by +99 or to −1 … */
export function brokenGraphDir(which: 'nanWeights' | 'id99' | 'idMinus1'): string {
  const dir = modelCopy();
  const onnx = join(dir, 'model.onnx');
  const [input, op, c, kind, field] =
    which === 'nanWeights' ? (['expert_weights', 'Mul', NaN, 'float', 'expertWeights'] as const)
    : which === 'id99' ? (['expert_ids', 'Add', 99, 'int64', 'expertIds'] as const)
    : (['expert_ids', 'Mul', -1, 'int64', 'expertIds'] as const); // ids × −1: 0 stays 0, every other id becomes negative
  writeFileSync(onnx, Buffer.concat([readFileSync(onnx), extraOutput(input, op, c, kind, `${input}_broken`)]));
  editManifest(dir, (m) => (m.outputs[field] = `${input}_broken`));
  return dir;
}

/** A FIFO (named pipe): reading it blocks until a writer comes — a stand-in for a file on a hung network mount. */
export function makeFifo(path: string): string {
  execFileSync('mkfifo', [path]);
  return path;
}

/**
 * Releases a FIFO made by makeFifo: a writer opens and closes it, so a reader blocked on it (a libuv pool thread, which
 * mocha's --exit cannot end) gets EOF. Call it in `finally` or `after`; a FIFO that is already gone is fine.
 */
export function releaseFifo(path: string): void {
  try {
    closeSync(openSync(path, constants.O_RDWR | constants.O_NONBLOCK));
  } catch {
    /* removed with its folder, or never made */
  }
}

/** Hostile directories for the confinement rules: [name, make the dir, file the error must name, message pattern]. */
export const confinementCases: [string, () => string, string, RegExp][] = [
  ['tokenizer path leaves the folder (../../etc/passwd)', () => {
    const d = modelCopy();
    editManifest(d, (m) => (m.tokenizer = '../../../../../../../../etc/passwd'));
    return d;
  }, '../../../../../../../../etc/passwd', /outside the model directory/],
  ['tokenizer.json is a link to /dev/zero', () => {
    const d = modelCopy();
    execFileSync('rm', [join(d, 'tokenizer.json')]);
    symlinkSync('/dev/zero', join(d, 'tokenizer.json'));
    return d;
  }, 'tokenizer.json', /outside the model directory/],
  ['model.onnx is a link to /dev/zero', () => {
    const d = modelCopy();
    execFileSync('rm', [join(d, 'model.onnx')]);
    symlinkSync('/dev/zero', join(d, 'model.onnx'));
    return d;
  }, 'model.onnx', /outside the model directory/],
  ['tokenizer.json is a FIFO inside the folder', () => {
    const d = modelCopy();
    execFileSync('rm', [join(d, 'tokenizer.json')]);
    makeFifo(join(d, 'tokenizer.json'));
    return d;
  }, 'tokenizer.json', /not a regular file/],
  ['moe.json is a FIFO', () => {
    const d = modelCopy();
    execFileSync('rm', [join(d, 'moe.json')]);
    makeFifo(join(d, 'moe.json'));
    return d;
  }, 'moe.json', /not a regular file/],
  ['a profile corpus entry outside the folder', () => {
    const d = modelCopy();
    editManifest(d, (m) => (m.profileCorpus.domains.python = '../outside.txt'));
    writeFileSync(join(d, '..', 'outside.txt'), 'secret text');
    return d;
  }, '../outside.txt', /outside the model directory/],
  ['moe.json larger than its cap', () => {
    const d = modelCopy();
    const m = readFileSync(join(d, 'moe.json'), 'utf8');
    writeFileSync(join(d, 'moe.json'), m.replace(/}\s*$/, `, "padding": "${'x'.repeat(2 * 2 ** 20)}" }`));
    return d;
  }, 'moe.json', /more than the 1 MiB/],
  ['model.onnx.data (external weights) links outside the folder', () => {
    const d = modelCopy();
    rmSync(join(d, 'model.onnx.data'));
    symlinkSync('/etc/hostname', join(d, 'model.onnx.data'));
    return d;
  }, 'model.onnx.data', /outside the model directory/],
  ['the model folder is a file', () => {
    const d = modelCopy();
    const f = join(d, 'moe.json');
    return f;
  }, 'moe.json', /model directory does not exist/],
];

