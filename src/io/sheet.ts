/**
 * Contact sheets: a grid of labelled image tiles composed into one PNG with sharp (the figure a fusion paper shows
 * next to its metric table). Every tile has the same box: a label band on top (text drawn by sharp from an SVG,
 * with librsvg and fontconfig: on a system without any font the bands stay blank but the sheet is still written)
 * and the image scaled to a fixed height, letterboxed ('contain') so that mixed aspect ratios keep columns aligned.
 */
import sharp from 'sharp';
import { invalidParameter } from '../core/errors.js';
import type { RasterImage } from '../core/image.js';
import { decodeImage, type DecodeOptions } from './decode.js';

/** One tile: an image (file path or decoded raster) and the text above it. */
export interface SheetTile {
  readonly image: string | RasterImage;
  readonly label: string;
}

export interface ContactSheetOptions {
  /** Height in pixels of every image box (default {@link SHEET_DEFAULTS}.tileHeight). */
  tileHeight?: number;
  /** Decode options for tiles given as paths (pixel limit, warnings). */
  decode?: DecodeOptions;
}

/**
 * The layout constants: image box height (default), its widest allowed aspect (box width = height x aspect of the
 * widest image, at most `maxAspect`), the label band's height and the gap around and between tiles.
 */
export const SHEET_DEFAULTS = { tileHeight: 192, maxAspect: 2, labelHeight: 24, gap: 6 } as const;

const BACKGROUND = { r: 24, g: 24, b: 24 };
const LABEL_BG = '#303030';

/** The pixel size of a sheet of `rows` x `columns` tiles whose image box is `tileWidth` x `tileHeight`. */
export function sheetSize(rows: number, columns: number, tileWidth: number, tileHeight: number): { width: number; height: number } {
  const { labelHeight, gap } = SHEET_DEFAULTS;
  return { width: columns * tileWidth + (columns + 1) * gap, height: rows * (labelHeight + tileHeight) + (rows + 1) * gap };
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** The label band as PNG bytes: light text on a dark band; text that does not fit is clipped at the band's edge. */
async function labelBand(text: string, width: number): Promise<Buffer> {
  const h = SHEET_DEFAULTS.labelHeight;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}">` +
    `<rect width="${width}" height="${h}" fill="${LABEL_BG}"/>` +
    `<text x="6" y="${h - 7}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="15" fill="#f0f0f0">${escapeXml(text)}</text>` +
    `</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** 8-bit samples for display: 16-bit rasters are stretched from their own min..max. */
function display8(img: RasterImage): Uint8Array {
  if (img.bitDepth === 8) return img.data as Uint8Array;
  let lo = Infinity, hi = -Infinity;
  for (const v of img.data) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const k = hi > lo ? 255 / (hi - lo) : 0;
  return Uint8Array.from(img.data, (v) => Math.round((v - lo) * k));
}

/** An image scaled to fit `maxWidth` x `height` (aspect kept, enlarged or reduced), as PNG bytes and its size. */
async function scaled(img: RasterImage, maxWidth: number, height: number): Promise<{ png: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(display8(img), { raw: { width: img.width, height: img.height, channels: img.channels } })
    .resize(maxWidth, height, { fit: 'inside', kernel: 'lanczos3' })
    .toColourspace('srgb')
    .png()
    .toBuffer({ resolveWithObject: true });
  return { png: data, width: info.width, height: info.height };
}

/**
 * Composes rows of labelled tiles into one PNG. Every row must have the same number of tiles. The image box is
 * `tileHeight` high and as wide as the widest image needs at that height (at most `maxAspect` times the height);
 * each image is scaled to fit it, centred. The sheet is `sheetSize(rows, columns, boxWidth, tileHeight)` pixels
 * (a 4:3 image at the default height: a 256 x 192 box).
 *
 * @returns the PNG bytes and the sheet's size.
 * @throws usage error for an empty or ragged grid or a bad tile height; input error for an unreadable image.
 * @example
 * const { png } = await contactSheet([[{ image: 'ir/01.png', label: 'IR' }, { image: 'vi/01.png', label: 'VIS' }]]);
 */
export async function contactSheet(rows: readonly (readonly SheetTile[])[], options: ContactSheetOptions = {}): Promise<{ png: Buffer; width: number; height: number }> {
  const tileHeight = options.tileHeight ?? SHEET_DEFAULTS.tileHeight;
  if (!Number.isInteger(tileHeight) || tileHeight < 8 || tileHeight > 4096) throw invalidParameter('tileHeight', 'an integer from 8 to 4096', tileHeight);
  const columns = rows[0]?.length ?? 0;
  if (rows.length === 0 || columns === 0) throw invalidParameter('rows', 'at least one row of tiles', rows);
  if (rows.some((r) => r.length !== columns)) throw invalidParameter('rows', `rows of ${columns} tiles each`, rows.map((r) => r.length));

  // Each image is decoded and scaled down (or up) at once, so memory holds tiles, not full images.
  const maxWidth = Math.round(tileHeight * SHEET_DEFAULTS.maxAspect);
  const tiles: { png: Buffer; width: number; height: number }[][] = [];
  for (const row of rows) {
    const out = [];
    for (const t of row) out.push(await scaled(typeof t.image === 'string' ? await decodeImage(t.image, options.decode) : t.image, maxWidth, tileHeight));
    tiles.push(out);
  }
  const tileWidth = Math.max(...tiles.flat().map((t) => t.width));
  const { width, height } = sheetSize(rows.length, columns, tileWidth, tileHeight);
  const { labelHeight, gap } = SHEET_DEFAULTS;
  const layers: sharp.OverlayOptions[] = [];
  for (let r = 0; r < rows.length; r++) {
    const top = gap + r * (labelHeight + tileHeight + gap);
    for (let c = 0; c < columns; c++) {
      const left = gap + c * (tileWidth + gap);
      const t = tiles[r]![c]!;
      layers.push({ input: await labelBand(rows[r]![c]!.label, tileWidth), left, top });
      // Centred in its box; the letterbox is the sheet's background.
      layers.push({ input: t.png, left: left + Math.floor((tileWidth - t.width) / 2), top: top + labelHeight + Math.floor((tileHeight - t.height) / 2) });
    }
  }
  const png = await sharp({ create: { width, height, channels: 3, background: BACKGROUND } }).composite(layers).png().toBuffer();
  return { png, width, height };
}
