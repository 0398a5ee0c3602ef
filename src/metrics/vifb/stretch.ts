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
    for (let i = 0; i < x.length; i++) out[i] = lut[x[i]! | 0]!;
    return;
  }
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    out[i] = (v & 255) === v ? lut[v]! : Math.round(((v - mn) / d) * 255);
  }
}
