/**
 * The process tier's liveness (engine/liveness.ts): a table of processes in a
 * segment of its own, `conc-lockreg-<id>`, whose id every primitive's header
 * stores (as the thread tier stores its owner registry's). A row is a pid plus
 * the process's start time (a recycled pid has another start time) and a
 * generation; a tag is `slot << 20 | generation`, the thread tier's encoding,
 * so a reused row never makes an old holder look alive, and slot 1023 is the
 * thread tier's never-alive `ABANDONED`.
 *
 * Liveness is read from `/proc/<pid>/stat`, never inferred from elapsed time.
 * A read costs microseconds and `take` asks on every spin, so an "alive"
 * answer is reused for {@link ALIVE_REUSE_MS}: a death is noticed that much
 * later, never sooner than it happened. "Dead" is final.
 *
 * Each process holds the table's segment open while any of its primitives
 * bound to it is open (counted by {@link ProcessRegistry.retain} and
 * `release`), so the table lives as long as some process uses it and goes
 * with its last user like any tracked segment.
 */
import { isProcessAlive, processIdentity, SharedMemory } from '@conc/shared-memory';
import type { Liveness } from '../engine/liveness.js';

const MAGIC = 0x636e7267; // 'cnrg'
const H_MAGIC = 0;
const H_ID = 1;
const HEADER_WORDS = 8;
const ROW_WORDS = 4;
const R_LIFE = 0;
const R_PID = 1;
const R_START_LO = 2;
const R_START_HI = 3;
/** Rows; slot 1023 is reserved (the thread tier's ABANDONED tag lives there). */
const SLOTS = 1023;
const GEN_BITS = 20;
const GEN_MASK = (1 << GEN_BITS) - 1;
/** Set in a row's life word while a process writes its identity there. */
const CLAIMING = 1 << GEN_BITS;
/** How long an "alive" answer from /proc is reused (see the module comment). */
export const ALIVE_REUSE_MS = 20;
const BYTES = (HEADER_WORDS + SLOTS * ROW_WORDS) * 4;

/** The segment name of registry `id`. */
export function registryName(id: number): string {
  return `conc-lockreg-${id.toString(16).padStart(8, '0')}`;
}

const open = new Map<number, ProcessRegistry>();
let home: ProcessRegistry | undefined;

function base(slot: number): number {
  return HEADER_WORDS + slot * ROW_WORDS;
}

/** A table of processes that hold (or may hold) primitives bound to it. */
export class ProcessRegistry implements Liveness {
  readonly id: number;
  readonly #memory: SharedMemory;
  readonly #i32: Int32Array;
  #tag = 0;
  #users = 0;
  /** tag → until when (performance.now()) it is known alive; -1: known dead. */
  readonly #known = new Map<number, number>();

  private constructor(memory: SharedMemory, id: number) {
    this.#memory = memory;
    this.#i32 = new Int32Array(memory.buffer, 0, BYTES / 4);
    this.id = id;
  }

  /** This process's own registry (for the primitives it creates), created on first use. */
  static home(): ProcessRegistry {
    if (home !== undefined && !home.#memory.closed) return home;
    for (;;) {
      const id = (Math.floor(Math.random() * 0x3fffffff) + 1) | 0;
      if (open.has(id)) continue;
      let memory: SharedMemory;
      try {
        memory = SharedMemory.create({ size: BYTES, name: registryName(id) });
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_CONC_SHM_EXISTS') continue;
        throw err;
      }
      const i32 = new Int32Array(memory.buffer);
      Atomics.store(i32, H_ID, id);
      Atomics.store(i32, H_MAGIC, MAGIC);
      home = new ProcessRegistry(memory, id);
      open.set(id, home);
      return home;
    }
  }

  /** The registry `id` names, attached if this process has not yet; `undefined` when it is gone. */
  static byId(id: number): ProcessRegistry | undefined {
    const known = open.get(id);
    if (known !== undefined && !known.#memory.closed) return known;
    if (!Number.isInteger(id) || id <= 0) return undefined;
    let memory: SharedMemory;
    try {
      memory = SharedMemory.attach(registryName(id));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_CONC_SHM_NOT_FOUND' || code === 'ERR_CONC_TOKEN') return undefined;
      throw err;
    }
    const i32 = new Int32Array(memory.buffer);
    if (memory.size < BYTES || Atomics.load(i32, H_MAGIC) !== MAGIC || Atomics.load(i32, H_ID) !== id) {
      memory.close();
      return undefined;
    }
    const r = new ProcessRegistry(memory, id);
    open.set(id, r);
    return r;
  }

  /**
   * A registry for `id` when its segment is gone: every process that used it
   * closed it, so the tags it gave out name no open holder. A new, empty
   * table takes the id (each old tag reads dead) and the memory works again.
   */
  static revive(id: number): ProcessRegistry {
    for (;;) {
      const existing = ProcessRegistry.byId(id);
      if (existing !== undefined) return existing;
      let memory: SharedMemory;
      try {
        memory = SharedMemory.create({ size: BYTES, name: registryName(id) });
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_CONC_SHM_EXISTS') continue;
        throw err;
      }
      const i32 = new Int32Array(memory.buffer);
      Atomics.store(i32, H_ID, id);
      Atomics.store(i32, H_MAGIC, MAGIC);
      const r = new ProcessRegistry(memory, id);
      open.set(id, r);
      return r;
    }
  }

  /** A primitive of this process bound to this registry opened: keep the table's segment open. */
  retain(): void {
    this.#users++;
  }

  /** One closed: the last one lets go of the table's segment (the last user's close removes it). */
  release(): void {
    if (--this.#users > 0) return;
    this.#users = 0;
    if (open.get(this.id) === this) open.delete(this.id);
    if (home === this) home = undefined;
    this.#memory.close();
  }

  /** The table's shared memory (diagnostics and tests). */
  get buffer(): SharedArrayBuffer {
    return this.#i32.buffer as SharedArrayBuffer;
  }

  /** This process's tag: a row claimed on first use. */
  get me(): number {
    if (this.#tag === 0) this.#tag = this.#join();
    return this.#tag;
  }

  #join(): number {
    const i32 = this.#i32;
    const self = processIdentity();
    if (self === undefined)
      throw new Error('@conc/lock/process: cannot read /proc/self/stat (is /proc mounted?)');
    const first = self.pid % SLOTS;
    for (let k = 0; k < SLOTS; k++) {
      const slot = (first + k) % SLOTS;
      const at = base(slot);
      const life = Atomics.load(i32, at + R_LIFE);
      if ((life & CLAIMING) !== 0) continue;
      // A free row (never used), or one whose process is gone: take it with a new generation.
      if (life !== 0 && this.#rowAlive(at)) continue;
      const gen = ((life & GEN_MASK) % GEN_MASK) + 1;
      if (Atomics.compareExchange(i32, at + R_LIFE, life, gen | CLAIMING) !== life) continue;
      Atomics.store(i32, at + R_PID, self.pid);
      Atomics.store(i32, at + R_START_LO, self.startTime % 0x80000000);
      Atomics.store(i32, at + R_START_HI, Math.floor(self.startTime / 0x80000000));
      Atomics.store(i32, at + R_LIFE, gen);
      return (slot << GEN_BITS) | gen;
    }
    throw new Error(`@conc/lock/process: more than ${SLOTS} processes use primitives of one registry`);
  }

  #rowAlive(at: number): boolean {
    const i32 = this.#i32;
    const pid = Atomics.load(i32, at + R_PID);
    const startTime = Atomics.load(i32, at + R_START_LO) + Atomics.load(i32, at + R_START_HI) * 0x80000000;
    return pid > 0 && isProcessAlive({ pid, startTime });
  }

  /** True while the process that got `tag` runs (the same process, not a later one with its pid). */
  isAlive(tag: number): boolean {
    if (tag === this.#tag && tag !== 0) return true;
    const known = this.#known.get(tag);
    if (known !== undefined) {
      if (known < 0) return false;
      if (performance.now() < known) return true;
    }
    const slot = tag >>> GEN_BITS;
    let alive = false;
    if (slot < SLOTS && tag > 0) {
      const at = base(slot);
      const gen = tag & GEN_MASK;
      alive =
        Atomics.load(this.#i32, at + R_LIFE) === gen &&
        this.#rowAlive(at) &&
        Atomics.load(this.#i32, at + R_LIFE) === gen;
    }
    if (this.#known.size > 4096) this.#known.clear();
    this.#known.set(tag, alive ? performance.now() + ALIVE_REUSE_MS : -1);
    return alive;
  }

  /** The pid behind `tag`, or -1 once its row has been reused. */
  holderId(tag: number): number {
    const slot = tag >>> GEN_BITS;
    if (slot >= SLOTS || tag <= 0) return -1;
    const at = base(slot);
    const pid = Atomics.load(this.#i32, at + R_PID);
    return (Atomics.load(this.#i32, at + R_LIFE) & GEN_MASK) === (tag & GEN_MASK) ? pid : -1;
  }
}
