import { errorFromWire, errorToWire, isConcError } from '@conc/serialize';
import { describe, expect, it } from 'vitest';
import { isManagerUnavailableError, ManagerUnavailableError } from '../src/index.js';

describe('ManagerUnavailableError', () => {
  it('has a stable name and code and is a ConcError', () => {
    const err = new ManagerUnavailableError('manager at /tmp/x is gone', { cause: new Error('ECONNRESET') });
    expect(err.name).toBe('ManagerUnavailableError');
    expect(err.code).toBe('ERR_CONC_MANAGER_UNAVAILABLE');
    expect(String(err.stack)).toMatch(/^ManagerUnavailableError: manager at \/tmp\/x is gone/);
    expect((err.cause as Error).message).toBe('ECONNRESET');
    expect(isConcError(err)).toBe(true);
    expect(isManagerUnavailableError(err)).toBe(true);
    expect(isManagerUnavailableError(new Error('other'))).toBe(false);
  });

  it('crosses a process boundary as JSON and comes back as its own class', () => {
    const wire = JSON.parse(JSON.stringify(errorToWire(new ManagerUnavailableError('gone'))));
    const back = errorFromWire(wire);
    expect(back).toBeInstanceOf(ManagerUnavailableError);
    expect(isManagerUnavailableError(back)).toBe(true);
    expect(back.message).toBe('gone');
  });
});
