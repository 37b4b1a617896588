// Draws media/icon.png (128×128, the Marketplace icon) from the SVG below in headless Chromium (playwright-core):
// a lens over a token × layer grid of expert colours (the heatmap's own palette). Run: node scripts/draw-icon.mjs
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const hues = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45', '#469990', '#9a6324'];
const cells = [];
for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) cells.push(`<rect x="${22 + c * 15}" y="${22 + r * 15}" width="14" height="14" rx="2" fill="${hues[(r * 3 + c * 5 + (r * c) % 3) % hues.length]}"/>`);
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">
  <rect width="128" height="128" rx="24" fill="#1f2430"/>
  <clipPath id="lens"><circle cx="52" cy="52" r="34"/></clipPath>
  <g clip-path="url(#lens)">${cells.join('')}</g>
  <circle cx="52" cy="52" r="36" fill="none" stroke="#e8eaf0" stroke-width="7"/>
  <path d="M78 78 L108 108" stroke="#e8eaf0" stroke-width="12" stroke-linecap="round"/>
</svg>`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 128, height: 128 } });
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
  await page.locator('svg').screenshot({ path: join(root, 'media', 'icon.png'), omitBackground: true });
} finally {
  await browser.close();
}
console.log('media/icon.png written');
