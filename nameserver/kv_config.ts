/**
 * The NameServer's KV config (PUT/GET/DELETE_KV_CONFIG, GET_KVLIST_BY_NAMESPACE), e.g. the
 * `ORDER_TOPIC_CONFIG` namespace that gives ordered topics their `orderTopicConf`.
 *
 * Held in memory: the NameServer runs with read-only file permissions, so, unlike RocketMQ's
 * `kvConfig.json`, entries do not survive a restart (documented in the README).
 *
 * @module
 */

/** Namespace holding per-topic order configuration (`NamesrvUtil.NAMESPACE_ORDER_TOPIC_CONFIG`). */
export const NAMESPACE_ORDER_TOPIC_CONFIG = "ORDER_TOPIC_CONFIG";

/** Entries allowed across all namespaces: a bound against a client filling memory. */
export const KV_ENTRIES_MAX = 100_000;

/** In-memory KV config. */
export class KvConfig {
  readonly #namespaces = new Map<string, Map<string, string>>();
  #count = 0;

  /**
   * Sets a value.
   *
   * @throws {RangeError} when {@linkcode KV_ENTRIES_MAX} entries are already held.
   */
  put(namespace: string, key: string, value: string): void {
    let table = this.#namespaces.get(namespace);
    if (!table) this.#namespaces.set(namespace, table = new Map());
    if (!table.has(key)) {
      if (this.#count >= KV_ENTRIES_MAX) {
        throw new RangeError(
          `Cannot put KV config "${namespace}/${key}": ${this.#count} entries held, limit is ${KV_ENTRIES_MAX}`,
        );
      }
      this.#count++;
    }
    table.set(key, value);
  }

  /** A value, or undefined. */
  get(namespace: string, key: string): string | undefined {
    return this.#namespaces.get(namespace)?.get(key);
  }

  /** Removes a value. */
  delete(namespace: string, key: string): void {
    const table = this.#namespaces.get(namespace);
    if (table?.delete(key)) {
      this.#count--;
      if (table.size === 0) this.#namespaces.delete(namespace);
    }
  }

  /** A copy of one namespace, or undefined when it is empty. */
  list(namespace: string): Map<string, string> | undefined {
    const table = this.#namespaces.get(namespace);
    return table && table.size > 0 ? new Map(table) : undefined;
  }
}
