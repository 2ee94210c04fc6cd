import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

/**
 * Byte-pair merging costs time that grows with the square of a word's length: a 50,000-character
 * word takes most of a second, a megabyte of them minutes. Text whose longest run without
 * whitespace passes this is counted with such runs cut into pieces of this length; no real word is
 * that long, and each piece's count differs from the exact one by a token or so at most.
 */
const LONGEST_EXACT_RUN = 256;
const LONG_RUN_SOURCE = `\\S{${LONGEST_EXACT_RUN + 1},}`;
const HAS_LONG_RUN = new RegExp(LONG_RUN_SOURCE);

/**
 * Counts of texts seen lately, newest last. Every step of a run counts its agent's system prompt
 * and tool schemas again, the same few kilobytes each time: in the benchmark's profile the
 * counting was a tenth of the llm-worker's CPU. Looking a text up costs one pass over it (its
 * hash); counting it costs byte-pair merges.
 */
const recentCounts = new Map<string, number>();
const RECENT_COUNTS = 512;
/** Texts longer than this are counted each time, so the cache holds at most a few megabytes. */
const LONGEST_REMEMBERED = 16_384;

/**
 * Tokens of `text` in OpenAI's o200k_base encoding (GPT-4o and later), in time linear in its
 * length whatever it holds.
 */
export function countTextTokens(text: string): number {
  if (text.length < 64 || text.length > LONGEST_REMEMBERED) return countUncached(text);
  const known = recentCounts.get(text);
  if (known !== undefined) {
    recentCounts.delete(text);
    recentCounts.set(text, known);
    return known;
  }
  const count = countUncached(text);
  recentCounts.set(text, count);
  if (recentCounts.size > RECENT_COUNTS) recentCounts.delete(recentCounts.keys().next().value as string);
  return count;
}

function countUncached(text: string): number {
  if (text.length === 0) return 0;
  if (!HAS_LONG_RUN.test(text)) return countTokens(text);
  let total = 0;
  let from = 0;
  for (const run of text.matchAll(new RegExp(LONG_RUN_SOURCE, 'g'))) {
    total += countTokens(text.slice(from, run.index));
    for (let start = 0; start < run[0].length; start += LONGEST_EXACT_RUN) total += countTokens(run[0].slice(start, start + LONGEST_EXACT_RUN));
    from = run.index + run[0].length;
  }
  return total + (from < text.length ? countTokens(text.slice(from)) : 0);
}
