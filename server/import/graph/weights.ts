/** Where the graph builders get weights: a checkpoint, read one tensor at a time (shapes checked by the reader). */
export interface WeightSource {
  has(name: string): boolean;
  /** float32 values of the tensor, which must have exactly `shape` */
  read(name: string, shape: readonly number[]): Float32Array;
  /** U8 tensors (gpt-oss's MXFP4 blocks and scales), shape checked */
  readBytes?(name: string, shape: readonly number[]): Uint8Array;
  /** the file holding a tensor, for messages about its decoded values (a sharded checkpoint's shard) */
  fileOf?(name: string): string;
}
