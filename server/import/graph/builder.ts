// A small ONNX graph builder: nodes with generated value names, tiny constants inline, weights streamed into an
// external-data file (ONNX "external data": each initializer names the file, its offset and length), so the graph
// proto stays a few hundred kB whatever the model's size and the importer holds one tensor at a time.
import { closeSync, openSync, writeSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { onnx } from 'onnx-proto';
import { floatsToHalf } from '../safetensors';
import type { QuantOptions } from './quantize';

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] };
export type WeightDtype = 'fp32' | 'fp16';

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;
/** Initializers at least this large go to the data file; smaller ones stay inline in model.onnx. */
const EXTERNAL_MIN_BYTES = 1024;
/** Offsets in the data file are multiples of this (page-friendly for onnxruntime's memory mapping). */
const ALIGN = 4096;

/** The external-data file, appended to as weights arrive; hashed as it is written. */
export class DataFile {
  private fd: number;
  private offset = 0;
  private readonly hash: Hash = createHash('sha256');

  constructor(readonly path: string, readonly location: string) {
    this.fd = openSync(path, 'w');
  }

  /** Appends bytes (after padding to ALIGN) and returns where they went. */
  append(bytes: Uint8Array): { offset: number; length: number } {
    const at = this.align();
    this.write(bytes);
    return { offset: at, length: bytes.byteLength };
  }

  /** Pads to ALIGN and returns the offset the next write lands at (for a tensor written in several pieces). */
  align(): number {
    const pad = (ALIGN - (this.offset % ALIGN)) % ALIGN;
    if (pad) this.write(new Uint8Array(pad));
    return this.offset;
  }

  write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(this.fd, bytes, done, bytes.byteLength - done, this.offset + done);
    this.hash.update(bytes);
    this.offset += bytes.byteLength;
  }

  get bytesWritten(): number {
    return this.offset;
  }

  /** Closes the file; returns the sha256 of its whole content. */
  close(): string {
    closeSync(this.fd);
    return this.hash.digest('hex');
  }
}

export interface ValueInfo {
  name: string;
  elemType: 'float32' | 'int64' | 'uint8';
  dims: (number | string)[];
}

const ELEM_TYPES = { float32: T.FLOAT, int64: T.INT64, uint8: T.UINT8 } as const;

export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly inputs: onnx.IValueInfoProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;
  private readonly consts = new Map<string, string>();
  /** values renamed to a graph output's name by output(): later nodes read them under the new name */
  private readonly renamed = new Map<string, string>();

  /** quant: block-wise int8/int4 for the projections, experts and embeddings (quantLayers.ts); null: float weights */
  constructor(private readonly data: DataFile, readonly weightDtype: WeightDtype = 'fp32', readonly quant: QuantOptions | null = null) {}

  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  input(v: ValueInfo): string {
    this.inputs.push(valueInfo(v));
    return v.name;
  }

  /**
   * Declares the initializer `name` a graph input as well: an input with a default (ONNX IR ≥ 4), which a caller may
   * feed and which is therefore not a constant to onnxruntime. Nothing feeds it; the point is what onnxruntime then
   * does not do at session creation: pre-pack it (a re-laid-out heap copy; quantLayers.ts says why the experts must
   * not get one) or constant-fold it.
   */
  defaultedInput(name: string): string {
    const t = this.initializers.find((i) => i.name === name);
    if (!t) throw new Error(`defaultedInput: no initializer ${name}`);
    const elemType = (Object.keys(ELEM_TYPES) as (keyof typeof ELEM_TYPES)[]).find((k) => ELEM_TYPES[k] === t.dataType);
    if (!elemType) throw new Error(`defaultedInput: ${name} has data type ${t.dataType}`);
    this.inputs.push(valueInfo({ name, elemType, dims: (t.dims ?? []).map(Number) }));
    return name;
  }

  /**
   * Marks `value` as the graph output `v.name`. The node that produced it gets that name as its output (nodes before
   * and after read it under the new name), so no Identity copies it: an Identity feeding a graph output is a real
   * copy in onnxruntime, and for the KV cache outputs that was the whole cache once per run (the bench profiled it).
   * An Identity remains only for a value that is not a node's output or that is already another output.
   */
  output(value: string, v: ValueInfo): void {
    const current = this.renamed.get(value) ?? value;
    const producer = current === value ? this.nodes.find((n) => n.output?.includes(value)) : undefined;
    if (current !== v.name && producer) {
      producer.output = producer.output!.map((o) => (o === value ? v.name : o));
      for (const n of this.nodes) if (n.input?.includes(value)) n.input = n.input.map((i) => (i === value ? v.name : i));
      this.renamed.set(value, v.name);
    } else if (current !== v.name) this.nodes.push({ opType: 'Identity', input: [current], output: [v.name], name: v.name });
    this.outputs.push(valueInfo(v));
  }

  /** One node with one output; returns the output's name. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, domain?: string): string {
    return this.opN(opType, inputs, 1, attrs, domain)[0];
  }

  opN(opType: string, inputs: string[], outputs: number, attrs: Record<string, AttrValue> = {}, domain?: string): string[] {
    const base = this.fresh(opType.toLowerCase());
    const out = Array.from({ length: outputs }, (_, i) => (outputs === 1 ? base : `${base}_${i}`));
    this.nodes.push({ opType, domain: domain ?? '', input: inputs.map((i) => this.renamed.get(i) ?? i), output: out, name: base, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return out;
  }

  /** A small float32 constant, inline (deduplicated by value). */
  constF(values: number[], dims: number[] = [values.length]): string {
    return this.constant('float32', values, dims);
  }

  constI(values: number[], dims: number[] = [values.length]): string {
    return this.constant('int64', values, dims);
  }

  private constant(type: 'float32' | 'int64', values: number[], dims: number[]): string {
    const key = `${type}|${dims.join(',')}|${values.join(',')}`;
    const hit = this.consts.get(key);
    if (hit) return hit;
    const name = this.fresh(type === 'float32' ? 'cf' : 'ci');
    const raw = type === 'float32' ? new Uint8Array(Float32Array.from(values).buffer) : new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer);
    this.initializers.push({ name, dims, dataType: type === 'float32' ? T.FLOAT : T.INT64, rawData: raw });
    this.consts.set(key, name);
    return name;
  }

  /**
   * A weight: float32 values stored as fp32, or as fp16 followed by a Cast to float32 (--dtype fp16 halves the files;
   * onnxruntime folds the Cast when it loads the graph). Large ones are streamed to the data file now.
   */
  weight(name: string, dims: number[], values: Float32Array): string {
    if (this.weightDtype === 'fp16') {
      const half = floatsToHalf(values);
      this.initializers.push(this.tensor(`${name}.fp16`, dims, T.FLOAT16, new Uint8Array(half.buffer)));
      this.nodes.push({ opType: 'Cast', input: [`${name}.fp16`], output: [name], name: `${name}.cast`, attribute: [attribute('to', T.FLOAT)] });
      return name;
    }
    this.initializers.push(this.tensor(name, dims, T.FLOAT, new Uint8Array(values.buffer, values.byteOffset, values.byteLength)));
    return name;
  }

  /**
   * A large weight written piece by piece (e.g. one expert at a time into [E, 2I, H]): the pieces are contiguous in the
   * data file, so the tensor never exists whole in memory.
   */
  streamedWeight(name: string, dims: number[], pieces: Iterable<Float32Array>): string {
    const fp16 = this.weightDtype === 'fp16';
    const stored = fp16 ? `${name}.fp16` : name;
    const offset = this.data.align();
    let length = 0;
    for (const p of pieces) {
      const bytes = fp16 ? new Uint8Array(floatsToHalf(p).buffer) : new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
      this.data.write(bytes);
      length += bytes.byteLength;
    }
    const want = dims.reduce((a, d) => a * d, 1) * (fp16 ? 2 : 4);
    if (length !== want) throw new Error(`streamed weight ${name}: wrote ${length} bytes, expected ${want}`);
    this.initializers.push({ name: stored, dims, dataType: fp16 ? T.FLOAT16 : T.FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: externalData(this.data.location, offset, length) });
    if (fp16) this.nodes.push({ opType: 'Cast', input: [stored], output: [name], name: `${name}.cast`, attribute: [attribute('to', T.FLOAT)] });
    return name;
  }

  /** An initializer of raw bytes (quantised values as uint8, their float32 scales), to the data file when large. */
  bytes(name: string, dims: number[], type: 'uint8' | 'float32', bytes: Uint8Array): string {
    this.initializers.push(this.tensor(name, dims, type === 'uint8' ? T.UINT8 : T.FLOAT, bytes));
    return name;
  }

  /** Raw bytes written piece by piece (one expert's quantised rows at a time), contiguous in the data file. */
  streamedBytes(name: string, dims: number[], type: 'uint8' | 'float32', pieces: Iterable<Uint8Array>): string {
    const offset = this.data.align();
    let length = 0;
    for (const p of pieces) {
      this.data.write(p);
      length += p.byteLength;
    }
    const want = dims.reduce((a, d) => a * d, 1) * (type === 'uint8' ? 1 : 4);
    if (length !== want) throw new Error(`streamed tensor ${name}: wrote ${length} bytes, expected ${want}`);
    this.initializers.push({ name, dims, dataType: type === 'uint8' ? T.UINT8 : T.FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: externalData(this.data.location, offset, length) });
    return name;
  }

  private tensor(name: string, dims: number[], dataType: number, bytes: Uint8Array): onnx.ITensorProto {
    if (bytes.byteLength < EXTERNAL_MIN_BYTES) return { name, dims, dataType, rawData: bytes.slice() };
    const { offset, length } = this.data.append(bytes);
    return {
      name,
      dims,
      dataType,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: externalData(this.data.location, offset, length),
    };
  }

  /** The serialised ModelProto (opset 17 plus com.microsoft 1 for the MoE op). */
  encode(docString: string): Uint8Array {
    return onnx.ModelProto.encode({
      irVersion: 8,
      producerName: 'moe-lens import',
      docString,
      opsetImport: [
        { domain: '', version: 17 },
        { domain: 'com.microsoft', version: 1 },
      ],
      graph: { name: 'moe', node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    }).finish();
  }
}

const externalData = (location: string, offset: number, length: number): onnx.IStringStringEntryProto[] => [
  { key: 'location', value: location },
  { key: 'offset', value: String(offset) },
  { key: 'length', value: String(length) },
];

function valueInfo(v: ValueInfo): onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ELEM_TYPES[v.elemType],
        shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, v: AttrValue): onnx.IAttributeProto {
  if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return { name, type: A.INT, i: v };
  if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
  if ('float' in v) return { name, type: A.FLOAT, f: v.float };
  return { name, type: A.FLOATS, floats: v.floats };
}
