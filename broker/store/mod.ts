/**
 * denomq's message store: a RocketMQ-layout commit log with group commit, consume queues, an
 * index, checkpoints, crash recovery and retention, plus an in-memory store with the same
 * interface. Returns statuses and typed results; knows nothing of the network.
 *
 * ```ts ignore
 * import { openMessageStore, PutMessageStatus } from "./mod.ts";
 * const store = await openMessageStore({ storePathRootDir: "/var/lib/denomq/store", flushDiskType: "SYNC_FLUSH" });
 * const result = await store.putMessage(message);
 * if (result.status !== PutMessageStatus.PUT_OK) console.error(result.reason);
 * await store.close();
 * ```
 *
 * Imports from outside `broker/store/` only `protocol/message.ts` (the record codec).
 *
 * @module
 */

import { FileMessageStore } from "./file_store.ts";
import type { MessageStore, MessageStoreOptions } from "./store.ts";

export * from "./store.ts";
export { FileMessageStore, type RecoveryReport } from "./file_store.ts";
export { MemoryMessageStore, type MemoryStoreOptions } from "./memory_store.ts";
export { denoFs, type FaultPlan, type FaultRule, FaultyFs, MemoryFs, type StoreFs } from "./_fs.ts";

/**
 * Opens the file store at `options.storePathRootDir`, recovering it after an unclean stop.
 *
 * @throws {Error} when another process holds the store, or on I/O errors while opening.
 */
export function openMessageStore(options: MessageStoreOptions): Promise<MessageStore> {
  return FileMessageStore.open(options);
}
