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

/** A SwiGLU MLP of the given width over a hidden vector of length H. */
export function swigluMlp(H: number) {
  return (v: number[], gate: Float32Array, up: Float32Array, down: Float32Array, width: number): number[] => {
    const gg = linear(v, gate, width, H);
    const uu = linear(v, up, width, H);
    return linear(gg.map((q, i) => silu(q) * uu[i]), down, H, width);
  };
}
