// The reference arithmetic the MoE block tests check the graph's ops against, written out in plain loops so that it
// shares nothing with the builder: nn.Linear (W is [out, in]) and the SwiGLU expert down(silu(gate·v) ⊙ up·v).

/** W [out, inF] · v */
export const linear = (v: ArrayLike<number>, W: Float32Array, out: number, inF: number): number[] =>
  Array.from({ length: out }, (_, o) => {
    let s = 0;
    for (let i = 0; i < inF; i++) s += W[o * inF + i] * v[i];
    return s;
  });

export const silu = (v: number): number => v / (1 + Math.exp(-v));

/**
 * What MatMulNBits at accuracy_level 4 multiplies with instead of the activations themselves: each block of `block`
 * values along the input quantised to int8, symmetric, scale max|a| / 127, rounded to nearest (MLAS's QuantizeARow).
 */
export function int8Activations(v: readonly number[], block: number): number[] {
  const out = new Array<number>(v.length);
  for (let b = 0; b < v.length; b += block) {
    const end = Math.min(v.length, b + block);
    let amax = 0;
    for (let i = b; i < end; i++) amax = Math.max(amax, Math.abs(v[i]));
    const scale = Math.fround(amax / 127);
    const inv = scale ? Math.fround(1 / scale) : 0;
    for (let i = b; i < end; i++) out[i] = Math.round(Math.fround(v[i] * inv)) * scale;
  }
  return out;
}

/**
 * A SwiGLU MLP of the given width over a hidden vector of length H. `acts`: what the projections see of their input
 * (the identity for float32 kernels; int8Activations for MatMulNBits at accuracy_level 4).
 */
export function swigluMlp(H: number, acts: (v: number[]) => number[] = (v) => v) {
  return (v: number[], gate: Float32Array, up: Float32Array, down: Float32Array, width: number): number[] => {
    const a = acts(v);
    const gg = linear(a, gate, width, H);
    const uu = linear(a, up, width, H);
    return linear(acts(gg.map((q, i) => silu(q) * uu[i])), down, H, width);
  };
}
