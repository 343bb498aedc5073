// Renders a report built by `o2o report` (from the fixture results tree) in headless Chromium through
// scripts/screenshot-report.sh and checks that the screenshot is a real rendering: a PNG of the window's
// size whose rows hold many colours (text, figure lines, shaded bands), not a blank page.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFixtureResults } from './fixture-results.ts';
import { decodePng, distinctColours } from './png.ts';

const repo = resolve(import.meta.dirname, '..', '..');

function findChromium(): string | undefined {
  if (process.env['CHROMIUM']) return process.env['CHROMIUM'];
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (found.status === 0 && found.stdout.trim() !== '') return found.stdout.trim();
  }
  return undefined;
}

describe('o2o report in headless Chromium', function () {
  this.timeout(180_000);
  let dir: string;

  before(function () {
    if (findChromium() === undefined) {
      if (process.env['CI'] === 'true')
        throw new Error('CI=true but chromium is not installed (scripts/bootstrap.sh installs it)');
      console.warn('    (skipped: chromium not found; install Debian chromium or set CHROMIUM to run)');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'o2o-report-browser-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('builds the report with the CLI and renders it to a real screenshot', () => {
    const results = join(dir, 'results');
    const out = join(dir, 'report');
    writeFixtureResults(results);
    const built = spawnSync(
      process.execPath,
      [join(repo, 'bin', 'o2o.mjs'), 'report', '--results', results, '--out', out, '--resamples', '200'],
      // From outside the checkout: the commit line still names the code's commit.
      { cwd: dir, encoding: 'utf8' },
    );
    assert.equal(built.status, 0, built.stderr);
    assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /Generated from commit [0-9a-f]{12}\b/);
    assert.equal(built.stdout.trim(), join(out, 'index.html'));
    assert.match(built.stderr, /\[report\] wrote \d+ files/);

    const png = join(dir, 'shot.png');
    const printed = execFileSync(
      'bash',
      [join(repo, 'scripts', 'screenshot-report.sh'), join(out, 'index.html'), png, '1400x3000'],
      { encoding: 'utf8' },
    );
    assert.equal(printed.trim(), png);
    assert.ok(existsSync(png));
    const img = decodePng(readFileSync(png));
    assert.deepEqual([img.width, img.height], [1400, 3000]);
    // Rows across the page: the headline tables near the top, figures further down.
    const rows = Array.from({ length: 30 }, (_, i) => 50 + i * 98);
    const colours = distinctColours(img, rows);
    assert.ok(colours > 40, `only ${colours} distinct colours in the sampled rows: a blank or broken page?`);
    // Some, but not most, pixels are ink: a page, not a solid fill.
    let ink = 0;
    for (let p = 0; p < img.pixels.length; p += img.channels) {
      if (img.pixels[p]! < 200 || img.pixels[p + 1]! < 200 || img.pixels[p + 2]! < 200) ink++;
    }
    const share = ink / (img.width * img.height);
    assert.ok(share > 0.01 && share < 0.6, `ink covers ${(share * 100).toFixed(1)}% of the page`);
  });

  it('renders an SVG figure to a PNG of its own size (scripts/figures-to-png.sh)', () => {
    const figures = join(dir, 'one-figure');
    mkdirSync(figures);
    copyFileSync(
      join(dir, 'report', 'figures', 'curves-Hopper-v5-medium-10k.svg'),
      join(figures, 'curves.svg'),
    );
    const r = spawnSync('bash', [join(repo, 'scripts', 'figures-to-png.sh'), figures], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /wrote 1 PNG files/);
    const img = decodePng(readFileSync(join(figures, 'curves.png')));
    assert.deepEqual([img.width, img.height], [900, 420]);
    assert.ok(distinctColours(img, [60, 150, 250, 350]) > 10, 'the figure has lines, bands and text');
  });

  it('the screenshot script refuses a missing page', () => {
    const r = spawnSync(
      'bash',
      [join(repo, 'scripts', 'screenshot-report.sh'), join(dir, 'nope.html'), join(dir, 'x.png')],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 2);
    assert.match(r.stderr, /does not exist/);
  });
});
