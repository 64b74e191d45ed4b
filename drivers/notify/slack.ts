import type { Logger } from 'pino';
import { z } from 'zod';
import { GamedayError } from '../../core/errors.js';
import { log as defaultLog } from '../../core/log.js';

/** Structurally the runbook engine's Notifier: send() never throws. */
export interface SlackNotifier {
  send(text: string): Promise<void>;
}

export interface SlackOptions {
  /** The incoming webhook's URL: a secret, never logged in full. */
  webhookUrl: string;
  /** Per message; default 5 s. */
  timeoutMs?: number;
  log?: Logger;
}

/** The webhook URL as logs may show it: scheme and host only (the path is the secret). */
export function redactWebhook(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/[redacted]`;
  } catch {
    return '[redacted]';
  }
}

const webhookSchema = z.url({ protocol: /^https?$/ });

/** Validates a webhook URL from a flag or the environment; the error names the source, never the URL. */
export function parseWebhookUrl(value: string, source: string): string {
  if (!webhookSchema.safeParse(value).success) {
    throw new GamedayError('BAD_WEBHOOK', 'not an http(s) URL', source, 'give the Slack incoming webhook URL, e.g. https://hooks.slack.com/services/T000/B000/XXXX');
  }
  return value;
}

/**
 * Posts {"text": ...} to a Slack incoming webhook, one message at a time in
 * the order sent. A failure (timeout, refused, non-2xx) is logged with the URL
 * redacted and swallowed: a notification never breaks a run.
 */
export function slackNotifier(opts: SlackOptions): SlackNotifier {
  const log = (opts.log ?? defaultLog).child({ webhook: redactWebhook(opts.webhookUrl) });
  const timeoutMs = opts.timeoutMs ?? 5000;
  const scrub = (text: string) => text.split(opts.webhookUrl).join(redactWebhook(opts.webhookUrl));
  return {
    async send(text: string): Promise<void> {
      try {
        const res = await fetch(opts.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        const body = await res.text().catch(() => '');
        if (!res.ok) log.warn({ status: res.status, body: scrub(body.slice(0, 200)) }, `Slack webhook answered ${res.status}: message not delivered`);
      } catch (err) {
        const e = err as Error & { cause?: Error };
        const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : scrub(`${e.message}${e.cause ? `: ${e.cause.message}` : ''}`);
        log.warn({ err: why }, `Slack webhook failed: ${why}`);
      }
    },
  };
}
