/**
 * Commit-log recovery: verify records from a starting point, re-dispatch them, find where valid
 * data ends, and make sure nothing after it can ever be mistaken for a record.
 *
 * The scan starts at the checkpoint's dispatched offset (everything before it was fdatasynced
 * together with its consume-queue units and index entries) and walks record by record:
 * MESSAGE magic ⇒ verify (size bounds, field lengths, PHYSICALOFFSET, sysFlag, UTF-8 and, with
 * `checkCrc`, the body CRC) and re-dispatch; BLANK magic covering the segment's rest ⇒ next
 * segment; zeros ⇒ end of data; anything else ⇒ a torn or corrupt tail. After an unclean stop the
 * bytes past the end are zeroed and later segments deleted, and exactly what was dropped is
 * logged, because a stale record left behind could be resurrected by a later recovery that stops
 * at a different point.
 *
 * Limits of the layout: RocketMQ's BODYCRC covers the body only, so a flipped bit in the flag,
 * timestamps, hosts, reconsume count or prepared offset of a record passes verification.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { assert } from "./_assert.ts";
import { BLANK_HEADER_BYTES, BLANK_MAGIC_CODE, MESSAGE_MAGIC_CODE, type ScannedRecord, scanRecord } from "./_record.ts";
import type { Segment } from "./segment.ts";

const logger = getLogger(["denomq", "store"]);

/**
 * Bytes read per step of the scan. Large enough that per-read overhead vanishes next to the
 * verification work; the window is also at least two maximal records so one always fits.
 */
const scanWindowBytes = 8 * 1024 * 1024;

/** What the scan found. */
export interface CommitLogScan {
  /** First verified offset. */
  scanFrom: number;
  /** Where valid data ends: the next append goes here. */
  endOffset: number;
  recordsVerified: number;
  /** Why the scan stopped: "zeros", "end of log", or the corruption found. */
  stopReason: string;
  /** Index in `segments` of the segment holding `endOffset` (may be `segments.length`). */
  endSegmentIndex: number;
}

/** Inputs of {@linkcode scanCommitLog}. */
export interface ScanOptions {
  segments: readonly Segment[];
  scanFrom: number;
  maxMessageSize: number;
  checkCrc: boolean;
  /** Called for each verified record, in order. */
  dispatch: (record: ScannedRecord, commitLogOffset: number) => void;
}

/** Walks the commit log from `scanFrom`, verifying and re-dispatching each record. */
export function scanCommitLog(options: ScanOptions): CommitLogScan {
  const { segments, maxMessageSize, checkCrc } = options;
  const windowBytes = Math.max(scanWindowBytes, 2 * (maxMessageSize + BLANK_HEADER_BYTES));
  let window = new Uint8Array(windowBytes);
  let view = new DataView(window.buffer);
  let windowStart = -1;
  let windowLength = 0;
  let segmentIndex = segments.findIndex((s) => options.scanFrom >= s.baseOffset && options.scanFrom < s.endOffset);
  if (segmentIndex < 0) {
    const endIndex = segments.findIndex((s) => s.baseOffset >= options.scanFrom);
    return {
      scanFrom: options.scanFrom,
      endOffset: options.scanFrom,
      recordsVerified: 0,
      stopReason: "end of log",
      endSegmentIndex: endIndex < 0 ? segments.length : endIndex,
    };
  }
  let position = options.scanFrom;
  let records = 0;
  const ensure = (segment: Segment, at: number, length: number): number => {
    if (at < windowStart || at + length > windowStart + windowLength) {
      if (length > window.length) {
        // A record written under a larger maxMessageSize: widen the window for it.
        window = new Uint8Array(length);
        view = new DataView(window.buffer);
      }
      windowStart = at;
      windowLength = Math.min(window.length, segment.endOffset - at);
      segment.read(window.subarray(0, windowLength), at);
    }
    return at - windowStart;
  };
  for (;;) {
    const segment = segments[segmentIndex];
    const remaining = segment.endOffset - position;
    if (remaining < BLANK_HEADER_BYTES) {
      return stop(`${remaining} bytes left in the segment, less than a blank header`);
    }
    let at = ensure(segment, position, BLANK_HEADER_BYTES);
    const size = view.getInt32(at);
    const magic = view.getInt32(at + 4);
    if (size === 0 && magic === 0) return stop("zeros");
    if (magic === BLANK_MAGIC_CODE) {
      if (size !== remaining) return stop(`blank record of ${size} bytes does not end the segment (${remaining} left)`);
      if (segmentIndex + 1 >= segments.length) {
        position = segment.endOffset;
        segmentIndex++;
        return stop("end of log");
      }
      segmentIndex++;
      position = segment.endOffset;
      assert(segments[segmentIndex].baseOffset === position, "segments must be contiguous");
      continue;
    }
    if (magic !== MESSAGE_MAGIC_CODE) return stop(`magic code 0x${(magic >>> 0).toString(16)} at ${position}`);
    // Bounded by the segment, not by maxMessageSize: lowering that setting must not turn older,
    // larger records into "corruption" and cut the log there.
    if (size < 0 || size > remaining - BLANK_HEADER_BYTES) {
      return stop(`record size ${size} at ${position} is out of bounds`);
    }
    at = ensure(segment, position, size);
    const scanned = scanRecord(window.subarray(0, at + size), view, at, position, checkCrc);
    if (typeof scanned === "string") return stop(`record at ${position}: ${scanned}`);
    options.dispatch(scanned, position);
    records++;
    position += size;
  }

  function stop(reason: string): CommitLogScan {
    return {
      scanFrom: options.scanFrom,
      endOffset: position,
      recordsVerified: records,
      stopReason: reason,
      endSegmentIndex: segmentIndex,
    };
  }
}

/** Where a segment's non-zero bytes at or after `from` end (exclusive), or `from` when all are zero. */
export function nonZeroEnd(segment: Segment, from: number): number {
  const chunkBytes = 4 * 1024 * 1024;
  const buffer = new Uint8Array(chunkBytes);
  const fileEnd = Math.min(segment.endOffset, segment.baseOffset + segment.file().size());
  let end = from;
  for (let at = from; at < fileEnd; at += chunkBytes) {
    const n = Math.min(chunkBytes, fileEnd - at);
    const slice = buffer.subarray(0, n);
    segment.read(slice, at);
    for (let i = n - 1; i >= 0; i--) {
      if (slice[i] !== 0) {
        end = at + i + 1;
        break;
      }
    }
  }
  return end;
}

/** Overwrites [from, to) of a segment with zeros and fdatasyncs it. */
export function zeroRange(segment: Segment, from: number, to: number): void {
  const zeros = new Uint8Array(Math.min(4 * 1024 * 1024, Math.max(0, to - from)));
  const file = segment.file();
  for (let at = from; at < to;) {
    const n = Math.min(zeros.length, to - at);
    const written = file.writeAt(zeros.subarray(0, n), at - segment.baseOffset);
    assert(written > 0, "zeroing a segment must make progress");
    at += written;
  }
  file.syncData();
}

/** What was cut off after an unclean stop. */
export interface TailRepair {
  /** [from, to) ranges of non-zero bytes overwritten or deleted, per segment path. */
  dropped: Array<{ path: string; from: number; to: number }>;
  /** Segments past the end whose files were deleted. */
  deletedSegments: string[];
  /** An all-zero segment right after the end, kept to be appended to next. */
  keptEmptySegment: Segment | undefined;
}

/**
 * After an unclean stop: zeroes the non-zero bytes after `scan.endOffset` in its segment and
 * removes later segments (keeping an all-zero one right after the end, the pre-allocated next
 * segment). Logs every dropped range. `removeSegment` deletes a segment's file.
 */
export function repairTail(
  segments: readonly Segment[],
  scan: CommitLogScan,
  removeSegment: (segment: Segment) => void,
): TailRepair {
  const repair: TailRepair = { dropped: [], deletedSegments: [], keptEmptySegment: undefined };
  const end = scan.endOffset;
  const endSegment = segments[scan.endSegmentIndex];
  if (endSegment && end < endSegment.endOffset) {
    const to = nonZeroEnd(endSegment, end);
    if (to > end) {
      zeroRange(endSegment, end, to);
      repair.dropped.push({ path: endSegment.path, from: end, to });
    }
  }
  const firstLater = endSegment && end < endSegment.endOffset ? scan.endSegmentIndex + 1 : scan.endSegmentIndex;
  for (let i = firstLater; i < segments.length; i++) {
    const segment = segments[i];
    const to = nonZeroEnd(segment, segment.baseOffset);
    if (to > segment.baseOffset) {
      repair.dropped.push({ path: segment.path, from: segment.baseOffset, to });
    } else if (i === firstLater && segment.baseOffset === (endSegment?.endOffset ?? -1)) {
      repair.keptEmptySegment = segment;
      continue;
    }
    repair.deletedSegments.push(segment.path);
    removeSegment(segment);
  }
  for (const d of repair.dropped) {
    logger.warn("Recovery dropped commit-log bytes [{from}, {to}) ({bytes} bytes) of {path}: {reason}", {
      from: d.from,
      to: d.to,
      bytes: d.to - d.from,
      path: d.path,
      reason: scan.stopReason,
    });
  }
  return repair;
}
