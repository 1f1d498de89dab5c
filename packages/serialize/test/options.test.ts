import { describe, expect, it } from 'vitest';
import { describeValue } from '../src/internal/options.js';

describe('describeValue', () => {
  it('names objects by class with the right article', () => {
    expect(describeValue(new ArrayBuffer(8))).toBe('an ArrayBuffer');
    expect(describeValue(new Int32Array(1))).toBe('an Int32Array');
    expect(describeValue(new Map())).toBe('a Map');
    expect(describeValue({})).toBe('an object');
    expect(describeValue('10')).toBe('the string "10"');
  });
});
