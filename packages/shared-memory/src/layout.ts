/**
 * The segment file: one page of header, then the user's bytes.
 *
 * ```
 * 0   magic "conc-shm"        8 bytes, ASCII
 * 8   layout version          u32 (1)
 * 12  header size             u32 (4096: the user's bytes start on a page)
 * 16  size                    f64, the user's bytes (the file is header + size long)
 * 24  flags                   u32: 1 = tracked (removed when its last user is gone)
 * 28  creator uid             u32
 * 32  creator pid             i32
 * 40  creator start time      f64, clock ticks since boot
 * 48  nonce                   8 random bytes: tells this segment from a later one of the same name
 * 56  user slots              u32 (252)
 * 64  user slots, 16 bytes each: pid i32, attachments i32, start time f64
 * ```
 *
 * Little-endian, as every Linux platform Node runs on. The slots change only under an
 * exclusive flock of the file, so plain reads and writes suffice. internal/testkit reads the
 * magic and the creator pid (its leak check); keep those offsets.
 */
import type { ProcessIdentity } from './identity.js';

export const HEADER_SIZE = 4096;
export const LAYOUT_VERSION = 1;
export const MAGIC = 'conc-shm';
export const FLAG_TRACKED = 1;
export const SLOTS_AT = 64;
export const SLOT_SIZE = 16;
export const SLOT_COUNT = (HEADER_SIZE - SLOTS_AT) / SLOT_SIZE;

const VERSION_AT = 8;
const HEADER_SIZE_AT = 12;
const SIZE_AT = 16;
const FLAGS_AT = 24;
const UID_AT = 28;
const PID_AT = 32;
const START_AT = 40;
const NONCE_AT = 48;
const SLOT_COUNT_AT = 56;

/** What a valid header says. */
export interface Header {
  readonly size: number;
  readonly flags: number;
  readonly creatorUid: number;
  readonly creator: ProcessIdentity;
  /** 16 hex digits. */
  readonly nonce: string;
}

/** Writes a header for a new segment (its slots are zero: a new file reads as zeros). */
export function writeHeader(view: DataView, header: Header): void {
  for (let i = 0; i < MAGIC.length; i++) view.setUint8(i, MAGIC.charCodeAt(i));
  view.setUint32(VERSION_AT, LAYOUT_VERSION, true);
  view.setUint32(HEADER_SIZE_AT, HEADER_SIZE, true);
  view.setFloat64(SIZE_AT, header.size, true);
  view.setUint32(FLAGS_AT, header.flags, true);
  view.setUint32(UID_AT, header.creatorUid, true);
  view.setInt32(PID_AT, header.creator.pid, true);
  view.setFloat64(START_AT, header.creator.startTime, true);
  for (let i = 0; i < 8; i++)
    view.setUint8(NONCE_AT + i, Number.parseInt(header.nonce.slice(2 * i, 2 * i + 2), 16));
  view.setUint32(SLOT_COUNT_AT, SLOT_COUNT, true);
}

/**
 * Reads and checks a header: the header, or why the bytes are not one this copy of the
 * package can use ("wrong magic", "layout version 2"...). `view` holds at least the first 64 bytes.
 */
export function readHeader(view: DataView): Header | string {
  if (view.byteLength < SLOTS_AT) return `too short for a header (${view.byteLength} bytes)`;
  for (let i = 0; i < MAGIC.length; i++) {
    if (view.getUint8(i) !== MAGIC.charCodeAt(i)) return 'not a conc shared memory segment (wrong magic)';
  }
  const version = view.getUint32(VERSION_AT, true);
  if (version !== LAYOUT_VERSION) {
    return `a segment of layout version ${version} (this copy of @conc/shared-memory reads version ${LAYOUT_VERSION})`;
  }
  if (view.getUint32(HEADER_SIZE_AT, true) !== HEADER_SIZE) return 'a header of the wrong size';
  if (view.getUint32(SLOT_COUNT_AT, true) !== SLOT_COUNT)
    return 'a header with the wrong number of user slots';
  const size = view.getFloat64(SIZE_AT, true);
  if (!Number.isSafeInteger(size) || size <= 0) return `a header with an impossible size (${size})`;
  let nonce = '';
  for (let i = 0; i < 8; i++)
    nonce += view
      .getUint8(NONCE_AT + i)
      .toString(16)
      .padStart(2, '0');
  return {
    size,
    flags: view.getUint32(FLAGS_AT, true),
    creatorUid: view.getUint32(UID_AT, true),
    creator: { pid: view.getInt32(PID_AT, true), startTime: view.getFloat64(START_AT, true) },
    nonce,
  };
}

/** One user slot: a process and how many handles it holds. */
interface Slot extends ProcessIdentity {
  readonly at: number;
  readonly attachments: number;
}

function slot(view: DataView, i: number): Slot {
  const at = SLOTS_AT + i * SLOT_SIZE;
  return {
    at,
    pid: view.getInt32(at, true),
    attachments: view.getInt32(at + 4, true),
    startTime: view.getFloat64(at + 8, true),
  };
}

/** The processes recorded as users, alive or not. */
export function recordedUsers(view: DataView): ProcessIdentity[] {
  const users: ProcessIdentity[] = [];
  for (let i = 0; i < SLOT_COUNT; i++) {
    const s = slot(view, i);
    if (s.pid !== 0) users.push({ pid: s.pid, startTime: s.startTime });
  }
  return users;
}

/**
 * Records one more handle of process `me` (caller holds the exclusive lock). A slot of a
 * dead process is reused. False when every slot holds a live process.
 */
export function join(view: DataView, me: ProcessIdentity, alive: (p: ProcessIdentity) => boolean): boolean {
  let free = -1;
  for (let i = 0; i < SLOT_COUNT; i++) {
    const s = slot(view, i);
    if (s.pid === me.pid && s.startTime === me.startTime) {
      view.setInt32(s.at + 4, s.attachments + 1, true);
      return true;
    }
    if (free < 0 && (s.pid === 0 || !alive(s))) free = s.at;
  }
  if (free < 0) return false;
  view.setInt32(free, me.pid, true);
  view.setInt32(free + 4, 1, true);
  view.setFloat64(free + 8, me.startTime, true);
  return true;
}

/** Forgets one handle of process `me` (caller holds the exclusive lock); frees its slot with the last. */
export function leave(view: DataView, me: ProcessIdentity): void {
  for (let i = 0; i < SLOT_COUNT; i++) {
    const s = slot(view, i);
    if (s.pid !== me.pid || s.startTime !== me.startTime) continue;
    if (s.attachments > 1) {
      view.setInt32(s.at + 4, s.attachments - 1, true);
    } else {
      view.setInt32(s.at, 0, true);
      view.setInt32(s.at + 4, 0, true);
      view.setFloat64(s.at + 8, 0, true);
    }
    return;
  }
}
