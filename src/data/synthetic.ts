/**
 * A synthetic infrared/visible pair for the demo and for tests: a dim street scene at dusk.
 * - visible (RGB): textured background (brick buildings with windows, a tree, a road with lane marks),
 *   dark overall; the warm objects (two people, a car) are almost invisible in it;
 * - infrared (gray): smooth, low-contrast background without texture; the people and the car's engine
 *   and wheels are hot and bright.
 * A good fusion keeps both the texture and the hot objects. Deterministic for a given seed.
 */
import type { RasterImage } from '../core/image.js';
import { mulberry32 } from '../core/random.js';

export interface SyntheticPairOptions {
  width?: number;
  height?: number;
  seed?: number;
}

export interface SyntheticPair {
  readonly ir: RasterImage;
  readonly vis: RasterImage;
}

export function syntheticPair(options: SyntheticPairOptions = {}): SyntheticPair {
  const W = options.width ?? 320;
  const H = options.height ?? 240;
  const rand = mulberry32(options.seed ?? 7);
  const n = W * H;
  const vis = new Float32Array(n * 3);
  const ir = new Float32Array(n);
  const horizon = Math.round(H * 0.55);
  const noise = Float32Array.from({ length: n }, () => rand() - 0.5);

  // Buildings: x ranges with heights.
  const buildings: { x0: number; x1: number; top: number; hue: [number, number, number] }[] = [];
  for (let x = 0; x < W; ) {
    const w = Math.round(W * (0.12 + 0.12 * rand()));
    buildings.push({ x0: x, x1: Math.min(W, x + w), top: Math.round(horizon * (0.15 + 0.5 * rand())), hue: [0.55 + 0.2 * rand(), 0.35 + 0.1 * rand(), 0.28 + 0.1 * rand()] });
    x += w + Math.round(W * 0.02);
  }
  const set = (i: number, r: number, g: number, b: number, t: number) => {
    vis[3 * i] = r; vis[3 * i + 1] = g; vis[3 * i + 2] = b; ir[i] = t;
  };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      if (y < horizon) {
        // Dusk sky: blue-violet gradient, cold in infrared.
        const s = y / horizon;
        set(i, 0.18 + 0.2 * s, 0.2 + 0.15 * s, 0.35 + 0.1 * s, 0.08 + 0.05 * s);
        const b = buildings.find((q) => x >= q.x0 && x < q.x1 && y >= q.top);
        if (b) {
          // Brick texture: mortar lines every 6 px, staggered; lit windows on a grid.
          const row = Math.floor((y - b.top) / 6);
          const mortar = (y - b.top) % 6 === 0 || (x - b.x0 + (row % 2) * 6) % 12 === 0;
          const win = (x - b.x0) % 16 >= 5 && (x - b.x0) % 16 < 11 && (y - b.top) % 20 >= 6 && (y - b.top) % 20 < 14;
          const k = mortar ? 0.55 : 1 + 0.1 * noise[i]!;
          const [r, g, bl] = win ? [0.9, 0.8, 0.45] : b.hue;
          set(i, r * k, g * k, bl * k, 0.3 + 0.04 * (x - b.x0) / (b.x1 - b.x0) + (win ? 0.05 : 0));
        }
      } else {
        // Road: asphalt grain, dashed lane marks; warmer than the sky in infrared.
        const s = (y - horizon) / (H - horizon);
        const lane = Math.abs(x - W / 2) < 2 + 3 * s && Math.floor(y / 8) % 2 === 0;
        const g = 0.32 + 0.05 * noise[i]!;
        set(i, lane ? 0.95 : g, lane ? 0.92 : g, lane ? 0.7 : g * 1.05, 0.35 + 0.1 * s);
      }
    }
  }
  // A tree: leafy noise texture, dark in infrared.
  const tx = Math.round(W * 0.12), ty = Math.round(horizon * 0.75), tr = Math.round(H * 0.13);
  for (let y = Math.max(0, ty - tr); y < Math.min(H, ty + tr); y++) {
    for (let x = Math.max(0, tx - tr); x < Math.min(W, tx + tr); x++) {
      const d = Math.hypot(x - tx, y - ty) / tr;
      if (d < 1 - 0.15 * noise[y * W + x]!) {
        const k = 0.6 + 0.8 * Math.abs(noise[(y * 7 + x * 3) % n]!);
        set(y * W + x, 0.12 * k, 0.4 * k, 0.12 * k, 0.22);
      }
    }
  }
  // Warm objects: two people (ellipses) and a car (box with hot engine and wheels).
  const blend = (i: number, t: number) => {
    // Barely darker than the scene in the visible image.
    vis[3 * i] = vis[3 * i]! * 0.9; vis[3 * i + 1] = vis[3 * i + 1]! * 0.9; vis[3 * i + 2] = vis[3 * i + 2]! * 0.9;
    ir[i] = t;
  };
  const people = [[0.35, 0.78], [0.72, 0.85]] as const;
  for (const [px, py] of people) {
    const cx = W * px, cy = H * py, hh = H * 0.12, hw = W * 0.022;
    for (let y = Math.floor(cy - hh); y < cy + hh; y++) {
      for (let x = Math.floor(cx - 2 * hw); x < cx + 2 * hw; x++) {
        if (x < 0 || y < 0 || x >= W || y >= H) continue;
        const body = ((x - cx) / hw) ** 2 + ((y - cy) / hh) ** 2 < 1;
        const head = Math.hypot(x - cx, y - (cy - hh)) < hw * 1.1;
        if (body || head) blend(y * W + x, 0.85 + 0.1 * (1 - Math.abs(y - cy) / hh));
      }
    }
  }
  const cx0 = Math.round(W * 0.45), cy0 = Math.round(H * 0.68), cw = Math.round(W * 0.18), ch = Math.round(H * 0.1);
  for (let y = cy0; y < Math.min(H, cy0 + ch); y++) {
    for (let x = cx0; x < Math.min(W, cx0 + cw); x++) {
      const engine = x > cx0 + cw * 0.7;
      const wheel = y > cy0 + ch * 0.7 && ((x - cx0) % Math.round(cw * 0.6) < cw * 0.2);
      blend(y * W + x, engine || wheel ? 0.95 : 0.6);
    }
  }
  // Dusk: the visible image is dark; the infrared image has sensor blur and mild noise.
  const visOut = new Uint8Array(n * 3);
  for (let i = 0; i < n * 3; i++) visOut[i] = clamp8(vis[i]! * 0.55 * 255);
  const irBlur = boxBlur(ir, W, H, 1);
  const irOut = new Uint8Array(n);
  for (let i = 0; i < n; i++) irOut[i] = clamp8((irBlur[i]! + 0.01 * noise[(i * 13) % n]!) * 255);
  return {
    ir: { width: W, height: H, channels: 1, bitDepth: 8, data: irOut },
    vis: { width: W, height: H, channels: 3, bitDepth: 8, data: visOut },
  };
}

function clamp8(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

function boxBlur(src: Float32Array, W: number, H: number, r: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0, c = 0;
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) {
        const yy = y + dy, xx = x + dx;
        if (yy >= 0 && yy < H && xx >= 0 && xx < W) { s += src[yy * W + xx]!; c++; }
      }
      out[y * W + x] = s / c;
    }
  }
  return out;
}
