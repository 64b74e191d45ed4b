import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { assertChromium, chromium as runChromium } from '../../fixtures/chromium.js';
import { renderReportHtml } from '../../../chaos/report/html.js';
import { CHART_COLOURS } from '../../../chaos/report/timelineSvg.js';
import { sampleReport } from '../../fixtures/gameday-report.js';

/*
 * Opens the fixture's report.html in a real headless Chromium: proves the
 * self-contained file renders its chart, not just that the markup is there.
 * No lab needed, so it lives with the unit tests.
 */

interface Pixels {
  width: number;
  height: number;
  /** RGB at (x, y), packed as 0xRRGGBB. */
  rgb(x: number, y: number): number;
}

/** Enough of PNG for Chromium's screenshots: 8-bit RGB or RGBA, not interlaced, all five row filters. */
function decodePng(file: Buffer): Pixels {
  expect(file.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < file.length; ) {
    const length = file.readUInt32BE(at);
    const type = file.toString('latin1', at + 4, at + 8);
    const data = file.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      [width, height] = [data.readUInt32BE(0), data.readUInt32BE(4)];
      const [depth, colour, interlace] = [data[8], data[9], data[12]];
      expect({ depth, interlace }).toEqual({ depth: 8, interlace: 0 });
      channels = colour === 6 ? 4 : colour === 2 ? 3 : 0;
      expect(channels, `PNG colour type ${colour}`).toBeGreaterThan(0);
    }
    if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    if (filter > 4) throw new Error(`PNG row ${y}: unknown filter ${filter}`);
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const left = i >= channels ? out[y * stride + i - channels] : 0;
      const up = y > 0 ? out[(y - 1) * stride + i] : 0;
      const upLeft = y > 0 && i >= channels ? out[(y - 1) * stride + i - channels] : 0;
      const p = left + up - upLeft;
      const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
      const paeth = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      const predictor = [0, left, up, (left + up) >> 1, paeth][filter];
      out[y * stride + i] = (line[i] + predictor) & 0xff;
    }
  }
  return {
    width,
    height,
    rgb: (x, y) => {
      const i = y * stride + x * channels;
      return (out[i] << 16) | (out[i + 1] << 8) | out[i + 2];
    },
  };
}

const hexToRgb = (hex: string) => parseInt(hex.slice(1), 16);
/** Darker than the page's near-white: something was drawn there. */
const isInk = (c: number) => (c >> 16) < 235 || ((c >> 8) & 0xff) < 235 || (c & 0xff) < 235;

describe('report.html in headless Chromium', () => {
  let dir = '';
  let htmlUrl = '';
  const chromium = (args: string[]) => runChromium(dir, htmlUrl, args);

  beforeAll(() => {
    assertChromium();
    dir = mkdtempSync(join(tmpdir(), 'gameday-chromium-'));
    const html = join(dir, 'report.html');
    writeFileSync(html, renderReportHtml(sampleReport()));
    htmlUrl = pathToFileURL(html).href;
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('paints the chart: bars in their colours, failures in red, not a blank page', async () => {
    const png = join(dir, 'report.png');
    await chromium([`--screenshot=${png}`, '--window-size=1200,1600']);
    expect(existsSync(png)).toBe(true);
    const img = decodePng(readFileSync(png));
    expect([img.width, img.height]).toEqual([1200, 1600]);

    // Where the successful read bars are painted is the chart; find its box.
    const okRead = hexToRgb(CHART_COLOURS.ok.read);
    const failedRead = hexToRgb(CHART_COLOURS.failed.read);
    let [okPixels, failedPixels] = [0, 0];
    const box = { x0: img.width, y0: img.height, x1: 0, y1: 0 };
    const colours = new Set<number>();
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        const c = img.rgb(x, y);
        colours.add(c);
        if (c === failedRead) failedPixels++;
        if (c !== okRead) continue;
        okPixels++;
        Object.assign(box, { x0: Math.min(box.x0, x), y0: Math.min(box.y0, y), x1: Math.max(box.x1, x), y1: Math.max(box.y1, y) });
      }
    }
    expect(colours.size).toBeGreaterThan(50);
    expect(okPixels).toBeGreaterThan(50_000);
    expect(failedPixels).toBeGreaterThan(200);
    // The bars span most of the page's width, and the chart's box is mostly ink, not white.
    expect(box.x1 - box.x0).toBeGreaterThan(800);
    let ink = 0;
    for (let y = box.y0; y <= box.y1; y++) for (let x = box.x0; x <= box.x1; x++) if (isInk(img.rgb(x, y))) ink++;
    expect(ink / ((box.x1 - box.x0 + 1) * (box.y1 - box.y0 + 1))).toBeGreaterThan(0.5);
  }, 90_000);

  it('builds the DOM a reader sees: the timeline svg with bars and event markers', async () => {
    const { stdout } = await chromium(['--dump-dom']);
    expect(stdout).toMatch(/<svg id="timeline" data-seconds="60"/);
    expect((stdout.match(/class="bar-ok /g) ?? []).length).toBeGreaterThan(0);
    expect((stdout.match(/class="bar-failed /g) ?? []).length).toBeGreaterThan(0);
    expect(stdout).toContain('class="event-marker event-fault"');
    expect(stdout).toContain('class="event-marker event-undo"');
    expect(stdout).toContain('FAILED');
  }, 90_000);
});
