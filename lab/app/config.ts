import { readFileSync } from 'node:fs';
import { z } from 'zod';

const endpoint = z.object({ host: z.string(), port: z.number().int() });

/** The reference app's configuration, written by the lab as JSON. */
export const appConfigSchema = z.object({
  name: z.string(),
  listen: endpoint,
  sentinels: z.array(endpoint).min(1),
  sentinelMasterName: z.string(),
  /** requirepass of the Redis servers and of the Sentinels (absent: none). */
  redisPassword: z.string().optional(),
  sentinelPassword: z.string().optional(),
  /** Both proxies: the app uses the first that answers, and moves to the other when one is gone. */
  proxies: z.array(z.object({ host: z.string(), writePort: z.number().int(), readPort: z.number().int() })).min(1),
  db: z.object({ user: z.string(), password: z.string(), database: z.string() }),
  /** Bearer token needed to take the instance in or out of rotation. */
  l7checkToken: z.string().min(16),
});
export type AppConfig = z.infer<typeof appConfigSchema>;

export function readAppConfig(file: string): AppConfig {
  return appConfigSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}
