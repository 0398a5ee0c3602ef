/**
 * The constant matrices of the network's linear resampling steps, on the host (no TensorFlow.js): every
 * engine builds its bilinear resize and adaptive pooling from these, so they agree by construction.
 */

/**
 * Bilinear interpolation matrix [out, size] with half-pixel centres (PyTorch align_corners=False with an
 * explicit size): src = max(0, (o + 0.5) * size / out - 0.5), taps floor(src) and min(floor(src) + 1, size - 1).
 */
export function bilinearMatrix(size: number, out: number): Float32Array {
  const m = new Float32Array(out * size);
  const scale = size / out;
  for (let o = 0; o < out; o++) {
    const src = Math.max(0, (o + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(src), size - 1);
    const i1 = Math.min(i0 + 1, size - 1);
    const l = src - i0;
    m[o * size + i0] += 1 - l;
    m[o * size + i1] += l;
  }
  return m;
}

/**
 * Adaptive average pooling bins (PyTorch `adaptive_avg_pool2d`): bin i of `out` over `size` inputs covers
 * [floor(i*size/out), ceil((i+1)*size/out)). Returns the [out, size] averaging matrix (row i = 1/len on its bin).
 */
export function adaptivePoolMatrix(size: number, out: number): Float32Array {
  const m = new Float32Array(out * size);
  for (let i = 0; i < out; i++) {
    const s = Math.floor((i * size) / out);
    const e = Math.ceil(((i + 1) * size) / out);
    for (let j = s; j < e; j++) m[i * size + j] = 1 / (e - s);
  }
  return m;
}

/** The transpose of a row-major [rows, cols] matrix. */
export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c]!;
  return t;
}
