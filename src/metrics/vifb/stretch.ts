/**
 * The min-max stretch and re-quantisation VIFB applies before Mutinf and before Qcb / Qcv (`normalize1`):
 * `round(255 (x - min) / (max - min))`. The argument is >= 0, so Math.round (half up) is MATLAB's round
 * (half away from zero). Integer samples 0..255 (what the loaders give) go through a 256-entry table of the
 * same expression; other samples (non-integer, NaN) are computed one by one.
 */
export function stretchRound(x: Float64Array, mn: number, d: number, out: Float64Array | Uint8Array, allBytes: boolean): void {
  const lut = new Float64Array(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.round(((v - mn) / d) * 255);
  if (allBytes) {
    // one loop per output type, each monomorphic (a shared one was ~1.5x slower)
    if (out instanceof Uint8Array) lookupBytes(x, lut, out);
    else lookupF64(x, lut, out);
    return;
  }
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    out[i] = (v & 255) === v ? lut[v]! : Math.round(((v - mn) / d) * 255);
  }
}

function lookupBytes(x: Float64Array, lut: Float64Array, out: Uint8Array): void {
  for (let i = 0; i < x.length; i++) out[i] = lut[x[i]! | 0]!;
}

function lookupF64(x: Float64Array, lut: Float64Array, out: Float64Array): void {
  for (let i = 0; i < x.length; i++) out[i] = lut[x[i]! | 0]!;
}
