/**
 * Training curves as a small self-contained SVG (no dependency): one panel per series, x = step, linear y
 * scale from each series' own min to max, raw values as a thin line and a moving average (window 1/20 of
 * the points, at least 1) as a thick one.
 *
 * Example: `writeFile('curve.svg', trainingCurveSvg([{ name: 'L', points: [[1, 2.1], [2, 1.9]] }]))`.
 */
export interface Series {
  readonly name: string;
  /** [step, value] pairs, steps increasing */
  readonly points: readonly (readonly [number, number])[];
}

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : v.toPrecision(4).replace(/\.?0+$/, '');
}

function movingAverage(v: readonly number[], k: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    sum += v[i]!;
    if (i >= k) sum -= v[i - k]!;
    out.push(sum / Math.min(i + 1, k));
  }
  return out;
}

/** SVG text of the curves (panels stacked vertically, `width` px wide, 160 px per panel). */
export function trainingCurveSvg(series: readonly Series[], title = 'isfuse training', width = 720): string {
  const ph = 160, top = 36, left = 70, right = 20, gap = 28;
  const height = top + series.length * (ph + gap);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  const pw = width - left - right;
  series.forEach((s, k) => {
    const y0 = top + k * (ph + gap);
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    out.push(`<rect x="${left}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
    out.push(`<text x="${left + 4}" y="${y0 + 14}" font-weight="bold">${esc(s.name)}</text>`);
    if (pts.length === 0) return;
    const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
    const xmin = Math.min(...xs), xmax = Math.max(...xs);
    let ymin = Math.min(...ys), ymax = Math.max(...ys);
    if (ymax === ymin) { ymax += 0.5 * Math.abs(ymax) || 1; ymin -= 0.5 * Math.abs(ymin) || 1; }
    const sx = (x: number): number => left + (xmax === xmin ? pw / 2 : ((x - xmin) / (xmax - xmin)) * pw);
    const sy = (y: number): number => y0 + ph - ((y - ymin) / (ymax - ymin)) * ph;
    const path = (vals: readonly number[]): string => vals.map((y, i) => `${i ? 'L' : 'M'}${sx(xs[i]!).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    out.push(`<path d="${path(ys)}" fill="none" stroke="#9ecae1" stroke-width="1"/>`);
    out.push(`<path d="${path(movingAverage(ys, Math.max(1, Math.round(pts.length / 20))))}" fill="none" stroke="#08519c" stroke-width="2"/>`);
    out.push(`<text x="${left - 4}" y="${y0 + 10}" text-anchor="end">${fmt(ymax)}</text>`);
    out.push(`<text x="${left - 4}" y="${y0 + ph}" text-anchor="end">${fmt(ymin)}</text>`);
    out.push(`<text x="${left}" y="${y0 + ph + 12}">${fmt(xmin)}</text>`);
    out.push(`<text x="${left + pw}" y="${y0 + ph + 12}" text-anchor="end">step ${fmt(xmax)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
