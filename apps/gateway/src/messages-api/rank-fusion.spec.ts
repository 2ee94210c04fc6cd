import { RRF_K, reciprocalRankFusion } from './rank-fusion';

describe('reciprocalRankFusion', () => {
  it('ranks first what both lists rank well, and keeps what only one list found', () => {
    const fused = reciprocalRankFusion([['a', 'b', 'c'], ['c', 'a', 'd']], 10);
    expect(fused.map((hit) => hit.id)).toEqual(['a', 'c', 'b', 'd']);
    expect(fused[0].score).toBeCloseTo(1 / (RRF_K + 1) + 1 / (RRF_K + 2), 12);
    expect(fused[3].score).toBeCloseTo(1 / (RRF_K + 3), 12);
  });

  it('is one list as it is when the other is empty (messages not yet embedded: full text alone)', () => {
    expect(reciprocalRankFusion([['x', 'y', 'z'], []], 10).map((hit) => hit.id)).toEqual(['x', 'y', 'z']);
    expect(reciprocalRankFusion([[], ['y', 'x']], 10).map((hit) => hit.id)).toEqual(['y', 'x']);
  });

  it('breaks ties by the earlier list, honours the limit, and counts a repeated id once per list', () => {
    expect(reciprocalRankFusion([['a', 'b'], ['b', 'a']], 10).map((hit) => hit.id)).toEqual(['a', 'b']);
    expect(reciprocalRankFusion([['a', 'b', 'c']], 2).map((hit) => hit.id)).toEqual(['a', 'b']);
    expect(reciprocalRankFusion([['a', 'b', 'c']], 0)).toEqual([]);
    const repeated = reciprocalRankFusion([['a', 'a', 'b']], 10);
    expect(repeated.find((hit) => hit.id === 'a')!.score).toBeCloseTo(1 / (RRF_K + 1), 12);
  });

  it('is empty for no lists', () => {
    expect(reciprocalRankFusion([], 5)).toEqual([]);
  });
});
