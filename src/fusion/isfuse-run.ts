/**
 * ISFuse on a loaded runner (model/runner.ts), without files: the part of the isfuse method that the web app
 * shares with the CLI (the page builds its runner on onnxruntime-web; isfuse.ts loads one from a weights file).
 */
import { inputError } from '../core/errors.js';
import { plane, type Plane } from '../core/image.js';
import { bilinearMatrix } from '../model/matrices.js';
import type { GateMap, IsfuseRunner } from '../model/runner.js';

export function checkPlanes(ir: Plane, vis: Plane): void {
  if (ir.width !== vis.width || ir.height !== vis.height) {
    throw inputError(`isfuse: the two images differ in size (${ir.width}x${ir.height} and ${vis.width}x${vis.height})`);
  }
  if (ir.width < 4 || ir.height < 4) throw inputError(`the isfuse method needs images of at least 4x4 pixels (two 2x2 poolings), got ${ir.width}x${ir.height}`);
}

/** Bilinear (half-pixel, align_corners=False) resize of a gate map to width x height, on the host. */
export function upsampleGate(g: GateMap, width: number, height: number): Plane {
  const rh = bilinearMatrix(g.height, height);
  const rw = bilinearMatrix(g.width, width);
  const tmp = new Float64Array(height * g.width);
  for (let y = 0; y < height; y++) {
    for (let k = 0; k < g.height; k++) {
      const a = rh[y * g.height + k];
      if (a === 0) continue;
      for (let x = 0; x < g.width; x++) tmp[y * g.width + x] += a * g.data[k * g.width + x];
    }
  }
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = 0; k < g.width; k++) {
        const a = rw[x * g.width + k];
        if (a !== 0) s += a * tmp[y * g.width + k];
      }
      out[y * width + x] = s;
    }
  }
  return plane(width, height, out);
}

/** A fused plane that may carry the upsampled gates (when `gates: true`). */
export type IsfusePlane = Plane & { readonly gates?: readonly [Plane, Plane, Plane] };


/**
 * Fuses one pair of planes in [0,1] (same size, >= 4x4) on `runner`; with `gates`, the plane carries g3, g4, g5
 * upsampled to the image size.
 */
export async function fuseWithRunner(runner: IsfuseRunner, ir: Plane, vis: Plane, o: { readonly gates?: boolean; readonly maxMemoryBytes?: number } = {}): Promise<IsfusePlane> {
  checkPlanes(ir, vis);
  const r = await runner.run({ ir: ir.data, vi: vis.data, height: ir.height, width: ir.width }, { gates: o.gates, maxMemoryBytes: o.maxMemoryBytes });
  const fused = plane(ir.width, ir.height, r.fused);
  if (!o.gates) return fused;
  const gates = r.gates!.map((g) => upsampleGate(g, ir.width, ir.height)) as [Plane, Plane, Plane];
  return Object.assign(fused, { gates });
}
