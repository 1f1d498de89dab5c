/**
 * Finds where a value stops being structured-cloneable, so a failed thread
 * send names the offending part (`items[3].callback`) the way the codecs do.
 * Only runs after `postMessage` has refused a batch: the common path pays nothing.
 */

function describe(value: unknown): string {
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  if (typeof value === 'symbol') return `a symbol (${String(value.description)})`;
  return `a ${Object.prototype.toString.call(value).slice(8, -1)}`;
}

function refused(value: object): boolean {
  return (
    value instanceof WeakMap ||
    value instanceof WeakSet ||
    value instanceof Promise ||
    (typeof WeakRef !== 'undefined' && value instanceof WeakRef)
  );
}

/** The path to the first part of `value` that cannot be cloned (`''` for the value itself), and what it is. */
export function findUncloneable(value: unknown): { path: string; what: string } {
  const seen = new Set<unknown>();
  const walk = (v: unknown, path: string): { path: string; what: string } | undefined => {
    if (typeof v === 'function' || typeof v === 'symbol') return { path, what: describe(v) };
    if (typeof v !== 'object' || v === null || seen.has(v)) return undefined;
    seen.add(v);
    if (refused(v)) return { path, what: describe(v) };
    if (v instanceof Map) {
      let i = 0;
      for (const [k, x] of v) {
        const found = walk(k, `${path}<key ${i}>`) ?? walk(x, `${path}.get(${JSON.stringify(String(k))})`);
        if (found) return found;
        i++;
      }
    } else if (v instanceof Set) {
      let i = 0;
      for (const x of v) {
        const found = walk(x, `${path}<item ${i++}>`);
        if (found) return found;
      }
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const found = walk(v[i], `${path}[${i}]`);
        if (found) return found;
      }
    } else if (!ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer)) {
      for (const key of Object.keys(v)) {
        let x: unknown;
        try {
          x = (v as Record<string, unknown>)[key];
        } catch {
          return { path: path ? `${path}.${key}` : key, what: 'a property whose getter throws' };
        }
        const found = walk(x, path ? `${path}.${key}` : key);
        if (found) return found;
      }
    }
    return undefined;
  };
  // Nothing recognisably uncloneable inside: blame the value as a whole (a host object...).
  return walk(value, '') ?? { path: '', what: describe(value) };
}
