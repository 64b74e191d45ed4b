import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareJson, renderCompare } from '../../../chaos/report/compare.js';
import { renderReportHtml } from '../../../chaos/report/html.js';
import { renderReportMarkdown } from '../../../chaos/report/markdown.js';
import { readReport, writeReport } from '../../../chaos/report/write.js';
import { GamedayError } from '../../../core/errors.js';
import { sampleReport } from '../../fixtures/gameday-report.js';

const count = (text: string, needle: RegExp) => (text.match(needle) ?? []).length;

describe('markdown report', () => {
  const md = renderReportMarkdown(sampleReport());

  it('leads with the scenario and the verdict, and says why', () => {
    expect(md.split('\n')[0]).toBe('# Game day: replica-dies-under-load: ❌ FAILED');
    expect(md).toContain('db-2 was back in db-read at 11.8 s lag');
  });

  it('shows the failed check with its detail and its times in seconds', () => {
    const row = md.split('\n').find((l) => l.includes('replica-stays-out-while-lagging') && l.startsWith('|'))!;
    expect(row).toContain('❌ **FAIL**');
    expect(row).toContain('db-2 was UP in db-read on db-proxy-1 at 41.5 s with replication lag 11.8 s (limit 1 s)');
    expect(row).toContain('lag when back 11.8 s');
    expect(row).toContain('limit 1.0 s');
    expect(row).toContain('server db-2');
    expect(count(md, /✅ pass/g)).toBe(5);
  });

  it('has the blast radius, the load by kind, events since the start and probe costs', () => {
    expect(md).toContain('**power-off** on host db-2 (hosts: db-2)');
    expect(md).toContain('| pool db-read | 1 | 1 | ok |');
    expect(md).toContain('**53 failed** (0.9 %)');
    expect(md).toContain('Error window: 1.9 s (from +16.0 s to +17.9 s)');
    expect(md).toMatch(/\| read \| 4800 \| 43 \(0\.9 %\) \| 3\.6 ms \| 41 ms \|/);
    expect(md).toContain('| +15.0 s | fault | power-off db-2 | lab power: SIGKILL mariadbd of db-2 |');
    expect(md).toContain('| -3.0 s | note | steady state holds |  |');
    expect(md).toContain('| replication-lag | 500 ms | 120 | 3.4 ms | 9 |');
  });

  it('keeps a pipe or HTML in user text from breaking the table', () => {
    const r = sampleReport();
    r.checks[0] = { ...r.checks[0], detail: 'a | b <img src=x>' };
    const out = renderReportMarkdown(r);
    expect(out).toContain('a \\| b &lt;img src=x&gt;');
  });
});

describe('HTML report', () => {
  const html = renderReportHtml(sampleReport());

  it('escapes a scenario name that holds markup', () => {
    const out = renderReportHtml(sampleReport({ scenario: { name: '<script>alert("x")</script> & co', description: "it's <b>bold</b>", file: 'a.yaml' } }));
    expect(out).not.toContain('<script');
    expect(out).not.toContain('<b>bold');
    expect(out).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    expect(out).toContain('it&#39;s &lt;b&gt;bold&lt;/b&gt;');
  });

  it('needs nothing from the network and runs no script', () => {
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/@import|url\(/);
    expect(html).not.toContain('<script');
  });

  it('draws the timeline: a bar per second, failures in red, a marker per event', () => {
    expect(html).toMatch(/<svg id="timeline" data-seconds="60"/);
    expect(count(html, /class="bar-ok kind-read"/g)).toBe(60);
    // Failed requests only at 16 and 17 s, each second with all three kinds failing.
    expect(count(html, /class="bar-failed /g)).toBe(6);
    expect(count(html, /class="event-marker event-/g)).toBe(9);
    expect(html).toContain('class="event-marker event-check"');
    expect(html).toContain('✗ replica-stays-out-while-lagging');
    expect(html).toContain('class="line-p99"');
    expect(html).toContain('latency (log scale)');
  });

  it('puts the verdict in a red banner and lists the checks with measured times', () => {
    expect(html).toContain('class="verdict verdict-failed"');
    expect(html).toContain('<span class="pill fail">FAIL</span>');
    expect(html).toContain('<li><span>lag when back</span> 11.8 s</li>');
  });

  it('says when no load was recorded, and when nothing failed', () => {
    const empty = renderReportHtml(sampleReport({ timeline: [], events: [], verdict: 'refused' }));
    expect(empty).toMatch(/<svg id="timeline" data-seconds="0"/);
    expect(empty).toContain('no load recorded');
    expect(empty).toContain('verdict-refused');
    const r = sampleReport({ verdict: 'passed' });
    r.timeline = r.timeline.map((t) => ({ ...t, failed: { read: 0, create: 0, 'mark-read': 0 } }));
    const calm = renderReportHtml(r);
    expect(calm).not.toContain('bar-failed');
    expect(calm).toContain('no failed requests');
    expect(calm).toContain('verdict-passed');
  });

  it('keeps a ten-minute run readable: thin bars, a tick a minute', () => {
    const r = sampleReport();
    r.timeline = Array.from({ length: 600 }, (_, s) => ({ ...r.timeline[s % 60], second: s }));
    r.events = [];
    const out = renderReportHtml(r);
    expect(out).toMatch(/<svg id="timeline" data-seconds="600"/);
    expect(count(out, /class="bar-ok kind-read"/g)).toBe(600);
    expect(out).toContain('>10:00</text>');
    expect(out).not.toContain('>0:30</text>');
  });
});

describe('compare', () => {
  const a = sampleReport();
  const b = sampleReport({
    runId: '20250515-090000-replica-dies',
    verdict: 'passed',
    verdictReason: 'every check held',
    checks: a.checks.filter((c) => c.id !== 'replica-stays-out-while-lagging'),
  });

  it('shows both verdicts and a check missing from one run as "-"', () => {
    const text = renderCompare(a, b);
    const line = (start: string) => text.split('\n').find((l) => l.trimStart().startsWith(start))!;
    expect(line('verdict')).toMatch(/^verdict\s+FAILED\s+PASSED$/);
    expect(line('replica-stays-out-while-lagging')).toMatch(/FAIL {2}lag when back 11\.8 s \(limit 1\.0 s\)\s+-$/);
    expect(line('error window')).toMatch(/1\.9 s\s+1\.9 s$/);
  });

  it('aligns the columns', () => {
    const lines = renderCompare(a, b).split('\n');
    const headerB = lines[0].lastIndexOf('B');
    const valuesB = [b.runId, 'lab (three-zones)', 'PASSED', 'pass  left all pools', '-'];
    const at = valuesB.map((v, i) => lines.find((l) => l.startsWith(['run', 'target', 'verdict', '  dead-servers', '  replica-stays'][i]))!.lastIndexOf(v));
    expect(at).toEqual(valuesB.map(() => headerB));
  });

  it('gives the same comparison as JSON', () => {
    const json = compareJson(a, b);
    expect(json.runs.a.verdict).toBe('failed');
    expect(json.runs.b.verdict).toBe('passed');
    const lagging = json.checks.find((c) => c.id === 'replica-stays-out-while-lagging')!;
    expect(lagging.a).toMatchObject({ passed: false });
    expect(lagging.b).toBeNull();
    expect(json.load.failed).toEqual({ a: 53, b: 53 });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});

describe('report files', () => {
  let dir = '';
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('writes json, md and html that read back as the same report', () => {
    dir = mkdtempSync(join(tmpdir(), 'gameday-report-'));
    const paths = writeReport(dir, sampleReport());
    expect(paths).toEqual({ json: join(dir, 'report.json'), md: join(dir, 'report.md'), html: join(dir, 'report.html') });
    expect(readReport(dir)).toEqual(sampleReport());
    expect(readFileSync(paths.html, 'utf8')).toContain('<svg id="timeline"');
    expect(readFileSync(paths.md, 'utf8')).toContain('## Checks');
    expect(statSync(paths.json).mode & 0o777).toBe(0o600);
  });

  it('says clearly when a run has no report, or a broken one', () => {
    dir = mkdtempSync(join(tmpdir(), 'gameday-report-'));
    const missing = (() => {
      try {
        readReport(dir);
      } catch (e) {
        return e;
      }
    })() as GamedayError;
    expect(missing).toBeInstanceOf(GamedayError);
    expect(missing.code).toBe('REPORT_NOT_FOUND');
    expect(missing.describe()).toContain(join(dir, 'report.json'));
    expect(missing.hint).toContain('gameday chaos status');

    writeFileSync(join(dir, 'report.json'), '{"runId": "x", "verdict": ');
    expect(() => readReport(dir)).toThrow(expect.objectContaining({ code: 'REPORT_INVALID' }));
    writeFileSync(join(dir, 'report.json'), '{"hello": 1}');
    expect(() => readReport(dir)).toThrow(/not a game day report/);
  });
});
