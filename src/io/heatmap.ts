/**
 * Renders a [0, 1] plane as an RGB heatmap (for gate maps). The palette is a 5-stop approximation of
 * matplotlib's 'inferno' (perceptually ordered, readable in gray print), interpolated linearly; written here
 * because it is ten lines and no image library we use ships colormaps.
 */
import type { Plane, RasterImage } from '../core/image.js';

const STOPS: readonly [number, number, number][] = [
  [0, 0, 4],
  [87, 16, 110],
  [188, 55, 84],
  [249, 142, 9],
  [252, 255, 164],
];

export function heatmap(p: Plane): RasterImage {
  const n = p.width * p.height;
  const out = new Uint8Array(n * 3);
  const last = STOPS.length - 1;
  for (let i = 0; i < n; i++) {
    const v = p.data[i]!;
    const t = (Number.isNaN(v) ? 0 : v <= 0 ? 0 : v >= 1 ? 1 : v) * last;
    const k = Math.min(last - 1, Math.floor(t));
    const f = t - k;
    const a = STOPS[k]!, b = STOPS[k + 1]!;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(a[c]! + (b[c]! - a[c]!) * f);
  }
  return { width: p.width, height: p.height, channels: 3, bitDepth: 8, data: out };
}
