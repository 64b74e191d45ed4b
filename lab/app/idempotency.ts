import { createHash } from 'node:crypto';
import { NOTIFICATIONS_DB } from '../../drivers/notificationStore.js';

/**
 * Idempotency keys for creates (the `Idempotency-Key` request header, as in
 * the IETF httpapi draft and Stripe's API). A client that timed out and
 * retries, on any proxy and any app instance, sends the same key; the
 * first create to commit owns it, and every retry gets that notification
 * back instead of a second one. Keys live in MariaDB next to the rows they
 * guard, so they hold across instances, and (user, key) is unique there,
 * so two copies racing each other cannot both commit.
 */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const IDEMPOTENCY_TABLE = `${NOTIFICATIONS_DB}.idempotency_keys`;

/** Keys are case-sensitive ASCII (ascii_bin): "abc" and "ABC" are two keys. */
export const IDEMPOTENCY_SCHEMA_SQL = `CREATE TABLE IF NOT EXISTS ${IDEMPOTENCY_TABLE} (
     user_id INT UNSIGNED NOT NULL,
     idempotency_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
     request_hash BINARY(32) NOT NULL,
     notification_id BIGINT UNSIGNED NOT NULL,
     created_at DATETIME(3) NOT NULL,
     PRIMARY KEY (user_id, idempotency_key)
   ) ENGINE=InnoDB`;

/** 1 to 64 visible ASCII characters; no spaces, so two headers joined by a comma and a space are refused too. */
const KEY_PATTERN = /^[\x21-\x7e]{1,64}$/;

export class InvalidIdempotencyKey extends Error {}

/** The key a request carries, undefined without one; throws InvalidIdempotencyKey for a bad one. */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header) || !KEY_PATTERN.test(header)) {
    throw new InvalidIdempotencyKey('Idempotency-Key must be 1 to 64 visible ASCII characters, sent once');
  }
  return header;
}

/** What the key promises: the same notification. A retry with the same key and another payload is a client bug. */
export function requestHash(title: string, body: string): Buffer {
  return createHash('sha256').update(JSON.stringify([title, body])).digest();
}

/** The key was used before for another title or body (HTTP 422). */
export class IdempotencyKeyReused extends Error {}

/** How long a key is kept: a client retries within minutes; a day (as Stripe's API) covers a retry queue that waited out an outage. */
export const IDEMPOTENCY_TTL_HOURS = 24;

/**
 * Deletes keys older than the TTL, a bounded batch at a time (a long DELETE
 * would hold locks and lag the replicas). Every instance may run it: two at
 * once delete the same rows, which changes nothing. Returns the rows deleted.
 */
export async function pruneIdempotencyKeys(run: (sql: string, values: unknown[]) => Promise<{ affectedRows: number }>, batch = 1000): Promise<number> {
  const r = await run(`DELETE FROM ${IDEMPOTENCY_TABLE} WHERE created_at < NOW(3) - INTERVAL ? HOUR LIMIT ?`, [IDEMPOTENCY_TTL_HOURS, batch]);
  return r.affectedRows;
}
