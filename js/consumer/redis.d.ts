/** The client a Redis replay store accepts: node-redis (v4+) or ioredis, already connected. */
export type RedisLikeClient =
  | { sendCommand(args: string[]): Promise<unknown>; isOpen?: boolean; isReady?: boolean }
  | { call(command: string, ...args: string[]): Promise<unknown>; status: string };

export interface RedisReplayStoreOptions {
  /** Prefix of the Redis keys. Default `"keybound:jti:"`. */
  prefix?: string;
  /** Milliseconds to wait for Redis before refusing with `ERR_REPLAY_STORE_UNAVAILABLE`. Default 1000. */
  timeoutMs?: number;
}

/** What `KeyBoundConsumer.create({ replayStore })` takes. */
export interface KeyBoundReplayStore {
  /** Resolves to true if `key` was new (now stored until the end of second `expiresAt`), false for a replay. */
  checkAndStore(key: string, now: number, expiresAt: number): Promise<boolean>;
}

/**
 * A replay store over Redis or Valkey, shared by every consumer instance using the same Redis and
 * prefix: one `SET key 1 NX PX ms` per presentation, the entry kept until the end of the
 * acceptance window. Fails closed: a Redis error, a reconnecting client or no answer within
 * `timeoutMs` rejects with `code: "ERR_REPLAY_STORE_UNAVAILABLE"`, and the consumer refuses.
 * Throws a `TypeError` with `code: "ERR_INVALID_ARGUMENT"` for a client it does not know.
 */
export function createRedisReplayStore(client: RedisLikeClient, options?: RedisReplayStoreOptions): KeyBoundReplayStore;
