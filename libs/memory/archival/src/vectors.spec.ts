import { TopK, dotAt, unitVector, vectorToBytes } from './vectors';

describe('stored vectors', () => {
  it('are scaled to unit length (a zero vector stays zero) and stored as float32 little-endian', () => {
    const vector = unitVector([3, 4]);
    expect([...vector]).toEqual([0.6000000238418579, 0.800000011920929]);
    expect([...unitVector([0, 0])]).toEqual([0, 0]);
    const bytes = vectorToBytes(vector);
    expect(bytes).toHaveLength(8);
    expect(bytes.readFloatLE(4)).toBeCloseTo(0.8, 6);
  });

  it('score by dot product against a row of a matrix', () => {
    const matrix = Float32Array.from([1, 0, 0, 1, 0.6, 0.8]);
    expect(dotAt(matrix, 2, Float32Array.from([0, 1]))).toBeCloseTo(0.8, 6);
  });
});

describe('TopK', () => {
  it('keeps the best k, best first, newest first among equals', () => {
    const top = new TopK<string>(3);
    for (const [score, item] of [[0.1, 'a'], [0.9, 'b'], [0.5, 'c'], [0.9, 'd'], [0.2, 'e']] as const) top.offer(score, item);
    expect(top.best()).toEqual([{ score: 0.9, item: 'd' }, { score: 0.9, item: 'b' }, { score: 0.5, item: 'c' }]);
    expect(top.floor).toBe(0.5);
    const none = new TopK<string>(0);
    none.offer(1, 'x');
    expect(none.best()).toEqual([]);
  });
});
