/** Letta's constant for reciprocal rank fusion: a rank's weight is 1 / (k + rank). */
export const RRF_K = 60;

/**
 * Reciprocal rank fusion of ranked lists of ids (best first): each id scores the sum of
 * 1 / (k + rank) over the lists it is in (rank from 1), so an id ranked well by both lists comes
 * first, and one only one list found still ranks. Ties keep the earlier list's order. Best first,
 * at most `limit`.
 */
export function reciprocalRankFusion(lists: readonly (readonly string[])[], limit: number, k = RRF_K): { id: string; score: number }[] {
  const scores = new Map<string, { score: number; first: number }>();
  let order = 0;
  for (const list of lists) {
    list.forEach((id, index) => {
      const entry = scores.get(id) ?? { score: 0, first: order++ };
      // An id listed twice in one list counts at its best rank only.
      if (list.indexOf(id) === index) entry.score += 1 / (k + index + 1);
      scores.set(id, entry);
    });
  }
  return [...scores.entries()]
    .sort(([, a], [, b]) => b.score - a.score || a.first - b.first)
    .slice(0, Math.max(0, limit))
    .map(([id, { score }]) => ({ id, score }));
}
