/** What a failing call threw, typed with the fields conc errors carry. */
export type Thrown = Error & { path?: string; frames?: Uint8Array[]; size?: number; limit?: number };

/** Runs `fn` and returns what it threw; fails the test if it returned instead. */
export function thrown(fn: () => unknown): Thrown {
  try {
    fn();
  } catch (err) {
    return err as Thrown;
  }
  throw new Error('expected a throw, got a value');
}
