import { blockLabelError } from './block-changes';

describe('block labels of the memory tool', () => {
  it.each(['notes', 'system/notes', 'a_b-c/d1'])('%s is a label', (label) => expect(blockLabelError(label)).toBeNull());
  it.each([
    ['', 'names no block'],
    ['a//b', 'not a valid block label'],
    ['has space', 'not a valid block label'],
    ['x'.repeat(257), 'at most 256'],
  ])('%s is refused', (label, error) => expect(blockLabelError(label)).toContain(error));
});
