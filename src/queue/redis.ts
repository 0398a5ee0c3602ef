/**
 * The Redis connection of `isfuse worker` and `isfuse submit`. ioredis (and BullMQ) load here, on first use, so
 * that `import 'isfuse'` and the CLI's start-up stay light (test/entry.test.ts).
 */
import type { Redis } from 'ioredis';
import { inputError, invalidParameter } from '../core/errors.js';

/** The queue every command uses unless told otherwise (`--queue`). */
export const DEFAULT_QUEUE = 'isfuse';

/** The URL without its password, for messages and logs. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * A connection for BullMQ (its blocking commands need `maxRetriesPerRequest: null`), after one plain try, so that
 * a wrong URL or a server that is down is an input error at once (exit 2), not a silent wait: ioredis would
 * otherwise retry for ever. Once connected, a lost connection is retried (a restarting Redis is waited for).
 */
export async function connectRedis(url: string, what = '--redis'): Promise<Redis> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidParameter(what, 'a Redis URL such as redis://host:6379', url);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw invalidParameter(what, 'a redis:// or rediss:// URL', url);
  const { Redis } = await import('ioredis');
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 5000 });
  probe.on('error', () => {}); // reported by connect() below
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    throw inputError(`${what} '${redactedUrl(url)}': cannot reach Redis: ${(e as Error).message}`, e);
  } finally {
    probe.disconnect();
  }
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  redis.on('error', (e) => process.stderr.write(`isfuse: warning: Redis ${redactedUrl(url)}: ${e.message}\n`));
  return redis;
}
