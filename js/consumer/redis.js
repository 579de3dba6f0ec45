// A replay store over Redis or Valkey for KeyBoundConsumer, shipped with the consumer entry
// (keybound/consumer, keybound/consumer/web). Plain JavaScript with no import: it works in
// Node, Deno and Workers with whatever client the caller already has (node-redis or ioredis);
// keybound depends on neither.
//
// One round trip per presentation: SET <prefix><key> 1 NX PX <ms>. NX makes "was it new?" and
// "remember it" one atomic step, shared by every instance that uses the same Redis. PX is the
// time left, in milliseconds, until the END of the second `expiresAt`: the consumer treats a
// `jti` as used while `expiresAt >= now` (whole seconds), so the entry must outlive that whole
// second (EXAT expiresAt would drop it at its start, and a replay in that last second would
// pass). A relative expiry also keeps the consumer's clock, not Redis's, in charge.
//
// Fails closed: a Redis error, a client that is not connected, a reply that is neither OK nor
// nil, or no answer within `timeoutMs` rejects, and the consumer refuses the presentation with
// ERR_REPLAY_STORE_UNAVAILABLE (and an evidence record). Nothing is accepted without Redis's OK.

/** The code of every rejection of this store; the consumer refuses with the same code. */
const CODE = 'ERR_REPLAY_STORE_UNAVAILABLE';

const fail = (message, cause) => {
  const err = new Error(`replay store: ${message}`, cause === undefined ? undefined : { cause });
  err.name = 'KeyboundError';
  err.code = CODE;
  return err;
};

const argError = (argument, message) => {
  const err = new TypeError(`"${argument}" ${message}`);
  err.code = 'ERR_INVALID_ARGUMENT';
  err.argument = argument;
  return err;
};

/**
 * The command function and a readiness check for a node-redis (v4+) or ioredis client.
 * @returns {{ send: (args: string[]) => Promise<unknown>, down: () => string | null }}
 */
function adapt(client) {
  if (client === null || typeof client !== 'object') throw argError('client', 'must be a node-redis or ioredis client');
  // ioredis: call(command, ...args) and a `status` string ("ready" when connected).
  if (typeof client.call === 'function' && typeof client.status === 'string') {
    return {
      send: (args) => client.call(...args),
      // "wait" (lazyConnect) and "connecting" are left to the client: its first command connects.
      down: () => (['reconnecting', 'close', 'end'].includes(client.status) ? `the ioredis client is ${client.status}` : null),
    };
  }
  // node-redis: sendCommand([command, ...args]), and isOpen / isReady.
  if (typeof client.sendCommand === 'function') {
    return {
      send: (args) => client.sendCommand(args),
      // Open but not ready = reconnecting: its offline queue would hold the command until Redis
      // is back; refuse now instead (and keep that queue from growing during an outage).
      down: () => (client.isOpen === true && client.isReady === false ? 'the node-redis client is reconnecting' : null),
    };
  }
  throw argError('client', 'must be a node-redis client (sendCommand) or an ioredis client (call)');
}

/**
 * Creates a replay store for `KeyBoundConsumer.create({ replayStore })` over the caller's Redis
 * or Valkey client (node-redis or ioredis, already connected). Every instance of a consumer
 * that uses the same Redis and `prefix` refuses a proof any of them accepted.
 *
 * @param {object} client a node-redis (`createClient()`) or ioredis (`new Redis()`) client
 * @param {{ prefix?: string, timeoutMs?: number }} [options] `prefix` of the Redis keys (default
 *   `"keybound:jti:"`); `timeoutMs`, how long to wait for Redis before refusing (default 1000)
 */
export function createRedisReplayStore(client, options = {}) {
  if (options === null || typeof options !== 'object') throw argError('options', 'must be an object');
  const { prefix = 'keybound:jti:', timeoutMs = 1000 } = options;
  if (typeof prefix !== 'string') throw argError('prefix', 'must be a string');
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > 60000) throw argError('timeoutMs', 'must be a number of milliseconds in (0, 60000]');
  const { send, down } = adapt(client);
  return {
    /**
     * Stores `key` until the end of the second `expiresAt`. Resolves to true if it was new, false
     * if it was there (a replay); rejects with `ERR_REPLAY_STORE_UNAVAILABLE` otherwise.
     */
    async checkAndStore(key, now, expiresAt) {
      if (typeof key !== 'string' || !Number.isFinite(expiresAt)) throw fail('bad arguments from the consumer');
      const state = down();
      if (state) throw fail(state);
      const ttl = Math.max(1, Math.ceil((expiresAt + 1) * 1000 - Date.now()));
      let timer;
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(fail(`no answer from Redis within ${timeoutMs} ms`)), timeoutMs);
      });
      let reply;
      try {
        reply = await Promise.race([send(['SET', prefix + key, '1', 'NX', 'PX', String(ttl)]), timeout]);
      } catch (e) {
        throw e?.code === CODE ? e : fail(`Redis error: ${e?.message ?? e}`, e);
      } finally {
        clearTimeout(timer);
      }
      if (reply === 'OK') return true;
      if (reply === null || reply === undefined) return false;
      throw fail(`unexpected reply to SET NX: ${String(reply).slice(0, 64)}`);
    },
  };
}
