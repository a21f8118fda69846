/**
 * Helpers the admin families share: MessageQueue map keys in fastjson's field order, the store
 * time of a queue entry, MQVersion names, and dates and byte counts written as Java writes them.
 * Private to `processors/`.
 *
 * @module
 */

import { RECORD_OVERHEAD_BYTES, RecordField, storeTimestampPosition } from "../../protocol/message.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import { BrokerError } from "../errors.ts";
import type { MessageStore } from "../store/store.ts";
import type { BrokerServices } from "./context.ts";

/**
 * A `MessageQueue` as fastjson writes it (fields alphabetical). Used as a JS `Map` key so that
 * `stringifyFastJson` writes RocketMQ's object-key form `{{"brokerName":…}:…}`.
 */
export interface MessageQueueKey {
  brokerName: string;
  queueId: number;
  topic: string;
}

/** A MessageQueue map key. */
export function messageQueueKey(topic: string, brokerName: string, queueId: number): MessageQueueKey {
  return { brokerName, queueId, topic };
}

/** RocketMQ's refusal of a metadata change on a slave (`AdminBrokerProcessor.validateSlave`). */
export function refuseOnSlave(s: BrokerServices): void {
  if (s.config.brokerRole === "SLAVE") {
    throw new BrokerError(
      ResponseCode.SYSTEM_ERROR,
      "Can't modify topic or subscription group from slave broker, please execute it from master broker.",
    );
  }
}

/**
 * Store time of the message at `queueOffset` of a queue, or -1 when there is none
 * (RocketMQ `MessageStore.getMessageStoreTimeStamp`).
 */
export async function storeTimeAt(
  store: MessageStore,
  topic: string,
  queueId: number,
  queueOffset: number,
): Promise<number> {
  if (queueOffset < 0) return -1;
  const [unit] = store.getQueueUnits(topic, queueId, queueOffset, 1);
  if (!unit || unit.queueOffset !== queueOffset) return -1;
  const record = await store.readRecord(unit.commitLogOffset);
  if (!record || record.length < RECORD_OVERHEAD_BYTES) return -1;
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const at = storeTimestampPosition(view.getInt32(RecordField.SYS_FLAG));
  return at + 8 <= record.length ? Number(view.getBigInt64(at)) : -1;
}

/** MQVersion ordinals 0-15: the 3.0.0 pre-releases. */
const EARLY_VERSIONS = [
  "V3_0_0_SNAPSHOT",
  "V3_0_0_ALPHA1",
  "V3_0_0_BETA1",
  "V3_0_0_BETA2",
  "V3_0_0_BETA3",
  "V3_0_0_BETA4",
  "V3_0_0_BETA5",
  "V3_0_0_BETA6_SNAPSHOT",
  "V3_0_0_BETA6",
  "V3_0_0_BETA7_SNAPSHOT",
  "V3_0_0_BETA7",
  "V3_0_0_BETA8_SNAPSHOT",
  "V3_0_0_BETA8",
  "V3_0_0_BETA9_SNAPSHOT",
  "V3_0_0_BETA9",
  "V3_0_0_FINAL",
];

/**
 * From ordinal 16 on, MQVersion lists each release as `_SNAPSHOT` then the release, minor by
 * minor: [major, minor, first patch, last patch]. 3.0 runs 1-15, 3.3 to 3.9 start at 1.
 */
const VERSION_SERIES: readonly [number, number, number, number][] = [
  [3, 0, 1, 15],
  [3, 1, 0, 9],
  [3, 2, 0, 9],
  ...[3, 4, 5, 6, 7, 8, 9].map((minor) => [3, minor, 1, 9] as [number, number, number, number]),
  ...[4, 5].flatMap((major) =>
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((minor) => [major, minor, 0, 9] as [number, number, number, number])
  ),
];

/**
 * The name of an MQVersion ordinal, as `MQVersion.getVersionDesc` gives it (407 is "V4_9_7";
 * ordinals past the last, V5_9_9, name the last).
 */
export function mqVersionDesc(version: number): string {
  let ordinal = Math.max(0, Math.trunc(version));
  if (ordinal < EARLY_VERSIONS.length) return EARLY_VERSIONS[ordinal];
  ordinal -= EARLY_VERSIONS.length;
  let last = "";
  for (const [major, minor, first, lastPatch] of VERSION_SERIES) {
    const count = (lastPatch - first + 1) * 2;
    last = `V${major}_${minor}_${lastPatch}`;
    if (ordinal < count) {
      const patch = first + Math.floor(ordinal / 2);
      return `V${major}_${minor}_${patch}${ordinal % 2 === 0 ? "_SNAPSHOT" : ""}`;
    }
    ordinal -= count;
  }
  return last;
}

/** MQVersion ordinal of V3_0_7_SNAPSHOT: older clients cannot take offset resets or status calls. */
export const V3_0_7_SNAPSHOT = 28;
/** MQVersion ordinal of V3_1_8_SNAPSHOT: older clients cannot answer relayed admin calls. */
export const V3_1_8_SNAPSHOT = 62;

/** `UtilAll.formatDate(date, "yyyy-MM-dd#HH:mm:ss:SSS")` in local time, as QueueTimeSpan's `…Str` fields. */
export function formatJavaDate(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}#` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}:${pad(d.getMilliseconds(), 3)}`;
}

/** `MixAll.humanReadableByteCount(bytes, false)`: "512 B", "1.5 KiB", "79.3 GiB". */
export function humanReadableBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const exp = Math.min(6, Math.floor(Math.log(bytes) / Math.log(1024)));
  return `${(bytes / 1024 ** exp).toFixed(1)} ${"KMGTPE"[exp - 1]}iB`;
}

/** Java's `String.valueOf(double)` for the values stats produce: always a decimal point. */
export function javaDouble(value: number): string {
  if (!Number.isFinite(value)) return "0.0";
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}
