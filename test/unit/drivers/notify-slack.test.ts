import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseWebhookUrl, redactWebhook, slackNotifier } from '../../../drivers/notify/slack.js';
import { GamedayError } from '../../../core/errors.js';
import { slackReceiver } from '../../fixtures/runbooks/slackReceiver.js';

function memoryLog() {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  return { log: pino({ level: 'info' }, stream), lines };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('Slack incoming-webhook notifier', () => {
  it('POSTs {text} as JSON, in the order sent', async () => {
    const rx = await slackReceiver();
    closers.push(rx.close);
    const slack = slackNotifier({ webhookUrl: rx.url });
    await slack.send('first');
    await slack.send('second :white_check_mark:');
    expect(rx.bodies).toEqual([
      { path: '/services/T000/B000/s3cr3tT0ken', contentType: 'application/json', body: { text: 'first' } },
      { path: '/services/T000/B000/s3cr3tT0ken', contentType: 'application/json', body: { text: 'second :white_check_mark:' } },
    ]);
  });

  it('never throws: an error answer, a refused connection and a timeout are logged with the URL redacted', async () => {
    const rx = await slackReceiver((_q, res) => {
      res.statusCode = 500;
      res.end('boom');
    });
    closers.push(rx.close);
    const { log, lines } = memoryLog();
    await expect(slackNotifier({ webhookUrl: rx.url, log }).send('x')).resolves.toBeUndefined();

    const hung = await slackReceiver(() => {}); // never answers
    closers.push(hung.close);
    const started = Date.now();
    await expect(slackNotifier({ webhookUrl: hung.url, log, timeoutMs: 200 }).send('y')).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2000);

    const closed = await slackReceiver();
    await closed.close();
    await expect(slackNotifier({ webhookUrl: closed.url, log }).send('z')).resolves.toBeUndefined();

    const text = lines.join('');
    expect(lines).toHaveLength(3);
    expect(text).toContain('answered 500');
    expect(text).toContain('no answer within 200 ms');
    expect(text).toContain('/[redacted]');
    expect(text).not.toContain('s3cr3tT0ken');
  });

  it('validates the URL without echoing it', () => {
    expect(parseWebhookUrl('https://hooks.slack.com/services/A/B/C', '--slack-webhook')).toBe('https://hooks.slack.com/services/A/B/C');
    const err = (() => {
      try {
        parseWebhookUrl('hooks.slack.com/s3cr3t', '--slack-webhook');
      } catch (e) {
        return e as GamedayError;
      }
    })();
    expect(err).toBeInstanceOf(GamedayError);
    expect(err?.code).toBe('BAD_WEBHOOK');
    expect(err?.input).toBe('--slack-webhook');
    expect(err?.describe()).not.toContain('s3cr3t');
    expect(redactWebhook('https://hooks.slack.com/services/A/B/C')).toBe('https://hooks.slack.com/[redacted]');
  });
});
