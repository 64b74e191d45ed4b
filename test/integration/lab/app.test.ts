import { describe, expect, it } from 'vitest';
import { showServers } from '../../../drivers/haproxy/runtime.js';
import { haproxyPaths } from '../../../lab/configs/haproxy.js';
import { randomUUID } from 'node:crypto';
import { http, rootQuery, sharedLab, waitFor } from '../helpers.js';

describe('the reference notification center', () => {
  const lab = sharedLab();
  const proxy = lab.host('proxy-1');
  const web = `http://${proxy.address}:${proxy.services.http}`;
  const user = 17;

  it('lists, creates and marks read through HAProxy, with MariaDB and Redis agreeing', async () => {
    const before = await http(`${web}/users/${user}/notifications?limit=5`);
    expect(before.status).toBe(200);
    expect(before.body.notifications).toHaveLength(5);
    const [truth] = await rootQuery(lab, 'db-1', 'SELECT COUNT(*) AS n FROM notifications.notifications WHERE user_id = ? AND read_at IS NULL', [user]);
    expect(before.body.unread).toBe(Number(truth.n));

    const created = await http(`${web}/users/${user}/notifications`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Your table is ready', body: 'Come in' }),
    });
    expect(created.status).toBe(201);
    const after = await http(`${web}/users/${user}/notifications?limit=5`);
    expect(after.body.unread).toBe(before.body.unread + 1);
    expect(after.body.notifications[0]).toMatchObject({ id: created.body.id, title: 'Your table is ready', readAt: null });

    const read = await http(`${web}/users/${user}/notifications/${created.body.id}/read`, { method: 'POST' });
    expect(read.status).toBe(200);
    expect(read.body.readAt).not.toBeNull();
    const [row] = await rootQuery(lab, 'db-1', 'SELECT read_at FROM notifications.notifications WHERE id = ?', [created.body.id]);
    expect(row.read_at).not.toBeNull();
    const final = await http(`${web}/users/${user}/notifications?limit=5`);
    expect(final.body.unread).toBe(before.body.unread);
    expect(final.body.notifications[0].readAt).toBe(read.body.readAt);

    // Marking it read twice changes nothing.
    await http(`${web}/users/${user}/notifications/${created.body.id}/read`, { method: 'POST' });
    expect((await http(`${web}/users/${user}/notifications?limit=1`)).body.unread).toBe(before.body.unread);
  });

  it('answers 404 for an unknown user or notification and 400 for a bad body', async () => {
    expect((await http(`${web}/users/999999/notifications`, { method: 'POST', body: JSON.stringify({ title: 't', body: 'b' }) })).status).toBe(404);
    expect((await http(`${web}/users/${user}/notifications/1/read`, { method: 'POST' })).status).toBe(404);
    expect((await http(`${web}/users/${user}/notifications`, { method: 'POST', body: '{"title": 5}' })).status).toBe(400);
  });

  it('refuses to take an instance out of rotation without the token, and honours it with the token', async () => {
    const app = lab.host('app-2');
    const l7 = `http://${app.address}:${app.services.http}/monitor/l7check`;
    const denied = await http(l7, { method: 'PUT', body: JSON.stringify({ inRotation: false }) });
    expect(denied.status).toBe(401);
    const wrong = await http(l7, { method: 'PUT', headers: { authorization: 'Bearer not-the-token-at-all' }, body: JSON.stringify({ inRotation: false }) });
    expect(wrong.status).toBe(401);
    expect((await http(l7)).status).toBe(200);

    const auth = { authorization: `Bearer ${lab.state.secrets.l7checkToken}` };
    try {
      expect((await http(l7, { method: 'PUT', headers: auth, body: JSON.stringify({ inRotation: false }) })).status).toBe(200);
      expect((await http(l7)).status).toBe(503);
      const socket = haproxyPaths(lab, lab.host('proxy-1')).socket;
      await waitFor('HAProxy to take app-2 out', async () =>
        (await showServers(socket)).some((s) => s.backend === 'web' && s.server === 'app-2' && s.status === 'DOWN'));
    } finally {
      await http(l7, { method: 'PUT', headers: auth, body: JSON.stringify({ inRotation: true }) });
    }
    const socket = haproxyPaths(lab, lab.host('proxy-1')).socket;
    await waitFor('HAProxy to put app-2 back', async () =>
      (await showServers(socket)).some((s) => s.backend === 'web' && s.server === 'app-2' && s.status === 'UP'));
  });

  it('keeps titles in Korean, Japanese and with emoji exactly, in the API, Redis and MariaDB (utf8mb4)', async () => {
    for (const title of ['알림이 도착했습니다', '通知が届きました', 'Party time 🎉🥳', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 4-byte']) {
      const created = await http(`${web}/users/${user}/notifications`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title, body: `${title} body` }) });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.title).toBe(title);
      const [row] = await rootQuery(lab, 'db-1', 'SELECT title, body FROM notifications.notifications WHERE id = ?', [created.body.id]);
      expect([row.title, row.body]).toEqual([title, `${title} body`]);
      const listed = await http(`${web}/users/${user}/notifications?limit=1`);
      expect(listed.body.notifications[0].title).toBe(title);
    }
  });

  it('answers 404 for ids out of range, never a database error', async () => {
    for (const path of [`/users/${'9'.repeat(400)}/notifications`, '/users/18446744073709551616/notifications', '/users/0/notifications', `/users/${user}/notifications/${'9'.repeat(400)}/read`, `/users/${user}/notifications/18446744073709551616/read`]) {
      const r = await http(`${web}${path}`, { method: path.endsWith('/read') ? 'POST' : 'GET' });
      expect(r.status, path).toBe(404);
      expect(JSON.stringify(r.body)).not.toMatch(/Infinity|column|SQL|ER_/i);
    }
  });

  it('says which instance answered (X-Served-By) and where a read came from (X-Read-Source)', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${web}/users/${user}/notifications?limit=1`);
      await res.text();
      expect(res.headers.get('x-read-source')).toBe('redis');
      seen.add(res.headers.get('x-served-by')!);
    }
    expect([...seen].sort()).toEqual(['app-1', 'app-2', 'app-3']);
    const missing = await fetch(`${web}/nowhere`);
    await missing.text();
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-served-by')).toMatch(/^app-[123]$/);
  });

  describe('creates with an Idempotency-Key', () => {
    const proxy2 = lab.host('proxy-2');
    const web2 = `http://${proxy2.address}:${proxy2.services.http}`;
    const create = (base: string, userId: number, key: string | undefined, title: string) =>
      fetch(`${base}/users/${userId}/notifications`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
        body: JSON.stringify({ title, body: 'once' }),
      });
    const rowsTitled = async (title: string) => Number((await rootQuery(lab, 'db-1', 'SELECT COUNT(*) AS n FROM notifications.notifications WHERE title = ?', [title]))[0].n);

    it('creates once when the same request is retried on the other proxy, and answers the retry with the first notification', async () => {
      const key = randomUUID();
      const title = `idempotent ${key}`;
      const first = await create(web, user, key, title);
      expect(first.status).toBe(201);
      const body = await first.json();
      const retry = await create(web2, user, key, title);
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(await retry.json()).toEqual(body);
      expect(await rowsTitled(title)).toBe(1);
      // Redis has it once too: the unread count moved by one.
      const listed = await http(`${web}/users/${user}/notifications?limit=2`);
      expect(listed.body.notifications.filter((n: { id: number }) => n.id === body.id)).toHaveLength(1);
    });

    it('creates once when copies race each other through both proxies', async () => {
      const key = randomUUID();
      const title = `racing ${key}`;
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => create(i % 2 ? web2 : web, user, key, title)));
      expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201, 201]);
      const ids = new Set(await Promise.all(answers.map(async (a) => ((await a.json()) as { id: number }).id)));
      expect(ids.size).toBe(1);
      expect(await rowsTitled(title)).toBe(1);
    });

    it('keeps keys per user, and refuses a key reused for another notification (422) or malformed (400)', async () => {
      const key = randomUUID();
      const a = await (await create(web, user, key, `per user ${key}`)).json();
      const other = await create(web, user + 1, key, `per user ${key}`);
      expect(other.status).toBe(201);
      expect(((await other.json()) as { id: number }).id).not.toBe(a.id);
      const reused = await create(web2, user, key, `another title ${key}`);
      expect(reused.status).toBe(422);
      for (const bad of ['', 'x'.repeat(65), 'with space', 'caf\u00e9']) {
        const r = await fetch(`${web}/users/${user}/notifications`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': bad }, body: JSON.stringify({ title: 'never', body: 'b' }) }).catch((e: Error) => e);
        // fetch itself refuses a header value outside Latin-1 printable: then no request was sent, which is fine too.
        if (!(r instanceof Error)) expect(r.status, JSON.stringify(bad)).toBe(400);
      }
      expect(await rowsTitled('never')).toBe(0);
      expect((await create(web, user, 'x'.repeat(64), `longest key ${key}`)).status).toBe(201);
    });
  });
});
