// The isfuse web app: pick or drop an image pair (or a folder of pairs), fuse it with a classical method or
// ISFuse, look (side by side or before/after, zoom and pan in sync, gate overlays), score it in both metric
// conventions, download the fused PNG and the scores. The pixel pipeline, methods, colour and metrics are the
// library's (src/), as the CLI runs them; only decoding (web/decode.ts) and the network's runtime
// (web/engine.ts: onnxruntime-web) are the browser's.
import { IsfuseError } from '../src/core/errors.js';
import type { Plane, RasterImage } from '../src/core/image.js';
import { classicalFusers } from '../src/fusion/classical/index.js';
import { fuseRasters, type FuseResult } from '../src/fusion/pipeline.js';
import type { Fuser } from '../src/fusion/types.js';
import { heatmap } from '../src/io/heatmap.js';
import { evaluate, summarise, type DirEvaluation } from '../src/metrics/evaluate.js';
import { CONVENTION_INFO, CONVENTIONS, getMetric } from '../src/metrics/registry.js';
import { formatNumber, formatResult } from '../src/metrics/report.js';
import type { Convention } from '../src/metrics/types.js';
import { DEFAULT_MODEL_NAME } from '../src/model/default-model-name.js';
import { decodeInPage } from './decode.js';
import { isfuseInPage, pickEngine, type Engine, type EngineChoice } from './engine.js';

interface ModelInfo { name: string; title: string; file: string; card?: string; bytes: number }
interface Source { name: string; bytes: Uint8Array }
/** What a fusion produced, kept for the views, the downloads and the browser tests (window.isfuseResult). */
export interface PageResult {
  pair: string;
  method: string;
  engine?: string;
  width: number;
  height: number;
  channels: number;
  /** The fused 8-bit samples (as `isfuse fuse` would write them). */
  fused: number[];
  /** Scores by convention; a convention that refused the pair (e.g. VIF needs 41x41) is in `scoreErrors`. */
  scores: Partial<Record<Convention, Record<string, number>>>;
  scoreErrors: Partial<Record<Convention, string>>;
  times: { decodeMs: number; fuseMs: number; metricsMs: number };
  warnings: string[];
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const sources: Partial<Record<'ir' | 'vis', Source>> = {};
let models: ModelInfo[] = [];
let last: { result: FuseResult; page: PageResult } | undefined;
const win = window as unknown as { isfuseResult?: PageResult; isfuseError?: string; isfuseReady?: boolean; isfuseEngine?: string };

// ---- messages and progress

function showMessage(text: string | undefined): void {
  const m = $('message');
  m.hidden = !text;
  m.textContent = text ?? '';
}

function status(text: string, fraction?: number): void {
  $('status').textContent = text;
  if (fraction !== undefined) $<HTMLProgressElement>('progress').value = fraction;
}

/** One line, as the CLI prints it: an IsfuseError's message; anything else is a bug, said so. */
function errorText(e: unknown): string {
  if (e instanceof IsfuseError) return `error: ${e.message}`;
  return `internal error: ${(e as Error)?.message ?? String(e)}`;
}

/** Lets the page paint between steps (progress and status). */
const paint = () => new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 0)));

// ---- inputs: two files, or a folder of pairs

function setSource(role: 'ir' | 'vis', src: Source): void {
  sources[role] = src;
  $(`name-${role}`).textContent = `${src.name} (${(src.bytes.length / 1024).toFixed(0)} KiB)`;
  $(`drop-${role}`).classList.add('filled');
  $<HTMLButtonElement>('fuse').disabled = !(sources.ir && sources.vis);
  if (sources.ir && sources.vis) status('Ready: press Fuse.', 0);
}

async function readFile(f: File): Promise<Source> {
  return { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) };
}

for (const role of ['ir', 'vis'] as const) {
  const input = $<HTMLInputElement>(`file-${role}`);
  input.addEventListener('change', async () => {
    if (input.files?.[0]) setSource(role, await readFile(input.files[0]));
  });
  const zone = $(`drop-${role}`);
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', async (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const files = Array.from(e.dataTransfer?.files ?? []);
    // two files dropped on one zone: infrared first by name when they say so, else in order
    if (files.length >= 2) {
      const isIr = (f: File) => /(^|[^a-z])(ir|infrared|ct|pet|spect)([^a-z]|$)/i.test(f.name);
      const [a, b] = isIr(files[1]!) && !isIr(files[0]!) ? [files[1]!, files[0]!] : [files[0]!, files[1]!];
      setSource('ir', await readFile(a));
      setSource('vis', await readFile(b));
    } else if (files[0]) setSource(role, await readFile(files[0]));
  });
}

const IR_DIRS = /^(ir|infrared|ct|pet|spect)$/i;
const VIS_DIRS = /^(vi|vis|visible|mri)$/i;
let folderPairs: { stem: string; ir: File; vis: File }[] = [];

$<HTMLInputElement>('folder').addEventListener('change', () => {
  const files = Array.from($<HTMLInputElement>('folder').files ?? []);
  const byRole = { ir: new Map<string, File>(), vis: new Map<string, File>() };
  for (const f of files) {
    const parts = (f.webkitRelativePath || f.name).split('/');
    const dir = parts[parts.length - 2] ?? '';
    const stem = f.name.replace(/\.[^.]+$/, '');
    if (f.name.startsWith('.')) continue;
    if (IR_DIRS.test(dir)) byRole.ir.set(stem, f);
    else if (VIS_DIRS.test(dir)) byRole.vis.set(stem, f);
  }
  const collator = new Intl.Collator('en', { numeric: true });
  folderPairs = [...byRole.ir.keys()].filter((s) => byRole.vis.has(s)).sort(collator.compare).map((stem) => ({ stem, ir: byRole.ir.get(stem)!, vis: byRole.vis.get(stem)! }));
  const unpaired = [...byRole.ir.keys(), ...byRole.vis.keys()].filter((s) => !(byRole.ir.has(s) && byRole.vis.has(s)));
  const sel = $<HTMLSelectElement>('pairs');
  sel.replaceChildren(...folderPairs.map((p, i) => new Option(p.stem, String(i))));
  sel.hidden = folderPairs.length === 0;
  showMessage(
    folderPairs.length === 0
      ? 'error: no pairs in that folder: it needs sub-folders ir/ (or infrared, ct, pet, spect) and vi/ (or vis, visible, mri) with files of the same name'
      : unpaired.length > 0 ? `note: ${unpaired.length} file(s) without a partner: ${unpaired.slice(0, 5).join(', ')}${unpaired.length > 5 ? ', ...' : ''}` : undefined,
  );
  if (folderPairs.length > 0) void choosePair(0);
});
$<HTMLSelectElement>('pairs').addEventListener('change', (e) => void choosePair(Number((e.target as HTMLSelectElement).value)));

async function choosePair(i: number): Promise<void> {
  const p = folderPairs[i];
  if (!p) return;
  setSource('ir', await readFile(p.ir));
  setSource('vis', await readFile(p.vis));
}

// ---- method, model, engine menus

function methodMenu(): void {
  const sel = $<HTMLSelectElement>('method');
  const opts = [...classicalFusers.map((f) => new Option(`${f.name}: ${f.description}`, f.name))];
  if (models.length > 0) opts.unshift(new Option('isfuse: the ISFuse network (CVPR 2026)', 'isfuse'));
  sel.replaceChildren(...opts);
  sel.value = models.length > 0 ? 'isfuse' : 'gff';
  $<HTMLSelectElement>('model').replaceChildren(...models.map((m) => Object.assign(new Option(m.name, m.file), { title: m.title })));
  showNetworkControls();
}

function showNetworkControls(): void {
  const isNet = $<HTMLSelectElement>('method').value === 'isfuse';
  $('model-label').hidden = !isNet;
  $('engine-label').hidden = !isNet;
}
$('method').addEventListener('change', showNetworkControls);

let engine: Promise<Engine> | undefined;
function currentEngine(): Promise<Engine> {
  engine ??= pickEngine($<HTMLSelectElement>('engine').value as EngineChoice);
  engine.then(
    (e) => { $('engine-info').textContent = `Network engine: ${e.label}. Classical methods and metrics: the library's JavaScript and WebAssembly code, as in the isfuse command.`; win.isfuseEngine = e.provider; },
    (e) => { $('engine-info').textContent = errorText(e); engine = undefined; },
  );
  return engine;
}
$('engine').addEventListener('change', () => { engine = undefined; void currentEngine().catch(() => undefined); });

// ---- fusing

async function fusePair(): Promise<void> {
  const ir = sources.ir, vis = sources.vis;
  if (!ir || !vis) return;
  showMessage(undefined);
  win.isfuseResult = undefined;
  win.isfuseError = undefined;
  $<HTMLButtonElement>('fuse').disabled = true;
  const warnings: string[] = [];
  const methodName = $<HTMLSelectElement>('method').value;
  try {
    const t0 = performance.now();
    status('decoding...', 0.05);
    await paint();
    const [irImg, visImg] = await Promise.all([decodeInPage(ir.bytes, ir.name, (m) => warnings.push(m)), decodeInPage(vis.bytes, vis.name, (m) => warnings.push(m))]);
    const t1 = performance.now();
    let method: Fuser;
    let engineLabel: string | undefined;
    if (methodName === 'isfuse') {
      const e = await currentEngine();
      engineLabel = e.label;
      method = isfuseInPage($<HTMLSelectElement>('model').value, e);
      status(`fusing with ISFuse on ${e.provider === 'webgpu' ? 'WebGPU' : 'WebAssembly'} (the first run of a size builds its graph)...`, 0.2);
    } else {
      method = classicalFusers.find((f) => f.name === methodName)!;
      status(`fusing with ${methodName}...`, 0.2);
    }
    await paint();
    const result = await fuseRasters(irImg, visImg, method, { methodOptions: methodName === 'isfuse' ? { gates: true } : {}, onWarning: (m) => warnings.push(m) }, { ir: ir.name, vis: vis.name, files: true });
    const t2 = performance.now();
    showImages(irImg, visImg, result);
    status('scoring (mmif, vifb)...', 0.7);
    await paint();
    const scores: PageResult['scores'] = {}, scoreErrors: PageResult['scoreErrors'] = {};
    for (const c of CONVENTIONS) {
      try {
        scores[c] = await evaluate(irImg, visImg, result.image, { convention: c });
      } catch (e) {
        scoreErrors[c] = errorText(e);
      }
    }
    const t3 = performance.now();
    const pair = ir.name.replace(/\.[^.]+$/, '');
    const page: PageResult = {
      pair, method: result.method, engine: engineLabel, width: result.image.width, height: result.image.height, channels: result.image.channels,
      fused: [...result.image.data], scores, scoreErrors, times: { decodeMs: t1 - t0, fuseMs: t2 - t1, metricsMs: t3 - t2 }, warnings,
    };
    last = { result, page };
    showScores(page);
    prepareDownloads(page);
    const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    status(`done: ${result.method} in ${sec(t2 - t1)} (decode ${sec(t1 - t0)}, metrics ${sec(t3 - t2)})`, 1);
    if (warnings.length) showMessage(`warning: ${warnings.join('\nwarning: ')}`);
    win.isfuseResult = page;
  } catch (e) {
    const text = errorText(e);
    showMessage(text);
    status('failed.', 0);
    win.isfuseError = text;
  } finally {
    $<HTMLButtonElement>('fuse').disabled = false;
  }
}
$('fuse').addEventListener('click', () => void fusePair());

// ---- views

function toImageData(img: RasterImage): ImageData {
  const n = img.width * img.height;
  const out = new Uint8ClampedArray(n * 4);
  const d = img.data;
  for (let i = 0; i < n; i++) {
    const c = img.channels;
    out[i * 4] = d[i * c]!;
    out[i * 4 + 1] = d[i * c + (c === 3 ? 1 : 0)]!;
    out[i * 4 + 2] = d[i * c + (c === 3 ? 2 : 0)]!;
    out[i * 4 + 3] = 255;
  }
  return new ImageData(out, img.width, img.height);
}

function draw(id: string, img: RasterImage): void {
  const c = $<HTMLCanvasElement>(id);
  c.width = img.width;
  c.height = img.height;
  c.getContext('2d')!.putImageData(toImageData(img), 0, 0);
}

function showImages(ir: RasterImage, vis: RasterImage, r: FuseResult): void {
  $('results').hidden = false;
  draw('c-ir', ir);
  draw('c-vis', vis);
  draw('c-fused', r.image);
  draw('s-vis', vis);
  draw('s-fused', r.image);
  $('fused-caption').textContent = `fused (${r.method})`;
  document.documentElement.style.setProperty('--aspect', `${r.image.width} / ${r.image.height}`);
  const gateSel = $<HTMLSelectElement>('gate');
  gateSel.disabled = !r.gates;
  if (!r.gates) gateSel.value = '';
  showGate();
  resetZoom();
  applySplit();
}

function showGate(): void {
  const g = $<HTMLSelectElement>('gate').value;
  const canvas = $<HTMLCanvasElement>('c-gate');
  const gate: Plane | undefined = g === '' ? undefined : last?.result.gates?.[Number(g)];
  canvas.hidden = !gate;
  if (gate) draw('c-gate', heatmap(gate));
  canvas.style.opacity = $<HTMLInputElement>('gate-opacity').value;
}
$('gate').addEventListener('change', showGate);
$('gate-opacity').addEventListener('input', showGate);

for (const r of Array.from(document.querySelectorAll<HTMLInputElement>('input[name=view]'))) {
  r.addEventListener('change', () => {
    const v = document.querySelector<HTMLInputElement>('input[name=view]:checked')!.value;
    $('side').hidden = v !== 'side';
    $('slider').hidden = v !== 'slider';
    resetZoom();
  });
}

function applySplit(): void {
  $('s-fused').style.clipPath = `inset(0 ${100 - Number($<HTMLInputElement>('split').value)}% 0 0)`;
}
$('split').addEventListener('input', applySplit);

// Zoom and pan: one transform for every view, so the same pixel sits under the cursor in each.
const view = { scale: 1, x: 0, y: 0 };
function fitScale(vp: HTMLElement): number {
  const c = vp.querySelector('canvas')!;
  return vp.clientWidth / (c.width || 1);
}
function applyView(): void {
  for (const vp of Array.from(document.querySelectorAll<HTMLElement>('.viewport'))) {
    const s = fitScale(vp) * view.scale;
    (vp.firstElementChild as HTMLElement).style.transform = `translate(${view.x * vp.clientWidth}px, ${view.y * vp.clientWidth}px) scale(${s})`;
  }
}
function resetZoom(): void {
  Object.assign(view, { scale: 1, x: 0, y: 0 });
  applyView();
}
$('zoom-reset').addEventListener('click', resetZoom);
window.addEventListener('resize', applyView);
for (const vp of Array.from(document.querySelectorAll<HTMLElement>('.viewport'))) {
  vp.addEventListener('wheel', (e) => {
    e.preventDefault();
    const r = vp.getBoundingClientRect();
    // offsets in viewport widths, so views of different sizes stay in step
    const px = (e.clientX - r.left) / r.width, py = (e.clientY - r.top) / r.width;
    const k = Math.min(64 / view.scale, Math.max(1 / view.scale, Math.exp(-e.deltaY / 300)));
    view.x = px - (px - view.x) * k;
    view.y = py - (py - view.y) * k;
    view.scale *= k;
    applyView();
  }, { passive: false });
  let drag: { x: number; y: number } | undefined;
  vp.addEventListener('pointerdown', (e) => { drag = { x: e.clientX, y: e.clientY }; vp.setPointerCapture(e.pointerId); });
  vp.addEventListener('pointermove', (e) => {
    if (!drag) return;
    view.x += (e.clientX - drag.x) / vp.clientWidth;
    view.y += (e.clientY - drag.y) / vp.clientWidth;
    drag = { x: e.clientX, y: e.clientY };
    applyView();
  });
  vp.addEventListener('pointerup', () => { drag = undefined; });
}

// ---- scores and downloads

/** One pair's scores as `isfuse eval` reports a folder of one image. */
function evaluation(page: PageResult, c: Convention): DirEvaluation {
  const values = page.scores[c] ?? {};
  const metrics = Object.keys(values);
  const images = [{ name: page.pair, values }];
  return { convention: c, metrics, images, count: 1, ...summarise(metrics, images), missing: [] };
}

function showScores(page: PageResult): void {
  const tables = CONVENTIONS.map((c) => {
    const t = document.createElement('table');
    t.createCaption().textContent = `${CONVENTION_INFO[c].label}${page.scoreErrors[c] ? `: ${page.scoreErrors[c]}` : ''}`;
    const head = t.createTHead().insertRow();
    for (const h of ['metric', 'value']) head.appendChild(Object.assign(document.createElement('th'), { textContent: h }));
    const body = t.createTBody();
    for (const [m, v] of Object.entries(page.scores[c] ?? {})) {
      const row = body.insertRow();
      row.insertCell().textContent = `${m} ${getMetric(c, m).higherIsBetter ? '↑' : '↓'}`;
      row.insertCell().textContent = formatNumber(v, 4);
    }
    return t;
  });
  $('metrics').replaceChildren(...tables);
}

const urls: string[] = [];
function link(id: string, blob: Blob, name: string): void {
  const a = $<HTMLAnchorElement>(id);
  const url = URL.createObjectURL(blob);
  urls.push(url);
  a.href = url;
  a.download = name;
}

function prepareDownloads(page: PageResult): void {
  for (const u of urls.splice(0)) URL.revokeObjectURL(u);
  const base = `${page.pair}-${page.method}`;
  $<HTMLCanvasElement>('c-fused').toBlob((b) => b && link('dl-png', b, `${base}.png`), 'image/png');
  for (const c of CONVENTIONS) {
    if (!page.scores[c]) continue;
    link(`dl-${c}-json`, new Blob([formatResult(evaluation(page, c), 'json')], { type: 'application/json' }), `${base}-${c}.json`);
    link(`dl-${c}-csv`, new Blob([formatResult(evaluation(page, c), 'csv')], { type: 'text/csv' }), `${base}-${c}.csv`);
  }
}

// ---- start

async function start(): Promise<void> {
  try {
    const res = await fetch('models.json');
    models = res.ok ? ((await res.json()) as ModelInfo[]) : [];
    // the default model first: the menu's first entry is the one selected
    models.sort((a, b) => Number(b.name === DEFAULT_MODEL_NAME) - Number(a.name === DEFAULT_MODEL_NAME));
  } catch {
    models = []; // a build without models: the classical methods only
  }
  methodMenu();
  await currentEngine().catch(() => undefined);
  win.isfuseReady = true;
}
void start();
