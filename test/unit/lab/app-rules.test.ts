import { describe, expect, it } from 'vitest';
import { l7Healthy } from '../../../lab/app/server.js';
import { idempotencyKeyOf, InvalidIdempotencyKey, requestHash } from '../../../lab/app/idempotency.js';

describe('the reference app\'s L7 check', () => {
  it('fails only for an instance out of rotation or whose Redis client has ended, not while Redis is away', () => {
    expect(l7Healthy(true, { redis: 'ready' })).toBe(true);
    // Every instance shares a Redis outage, and reads fall back to MariaDB: taking them all out would help no one.
    for (const away of ['connecting', 'reconnecting', 'close', 'wait']) expect(l7Healthy(true, { redis: away }), away).toBe(true);
    expect(l7Healthy(true, { redis: 'end' })).toBe(false);
    expect(l7Healthy(false, { redis: 'ready' })).toBe(false);
  });
});

describe('Idempotency-Key', () => {
  it('takes 1 to 64 visible ASCII characters, case-sensitive, and nothing else', () => {
    expect(idempotencyKeyOf(undefined)).toBeUndefined();
    for (const good of ['a', 'A', '0b4f2d1e-8c5a-4a3e-9b7e-1f2a3b4c5d6e', 'x'.repeat(64), '!~#$%&*+-.^_`|']) expect(idempotencyKeyOf(good)).toBe(good);
    for (const bad of ['', ' ', 'x'.repeat(65), 'two, keys', 'tab\there', 'caf\u00e9', 'new\nline']) expect(() => idempotencyKeyOf(bad), JSON.stringify(bad)).toThrow(InvalidIdempotencyKey);
    expect(() => idempotencyKeyOf(['a', 'b'])).toThrow(InvalidIdempotencyKey);
  });

  it('binds a key to its title and body', () => {
    expect(requestHash('t', 'b').equals(requestHash('t', 'b'))).toBe(true);
    expect(requestHash('t', 'b').equals(requestHash('tb', ''))).toBe(false);
  });
});
