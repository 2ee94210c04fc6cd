/**
 * Pure helpers shared by the parent and the child: output that is bounded while it is produced,
 * and the return value's cut. No imports, so the child entry can use them under the permission model.
 */

/** Collects text up to `max` characters and only counts what comes after, so a print loop cannot grow memory. */
export class BoundedText {
  private parts: string[] = [];
  private kept = 0;
  private dropped = 0;

  constructor(private readonly max: number) {}

  push(text: string): void {
    if (text.length === 0) return;
    const room = this.max - this.kept;
    if (room <= 0) {
      this.dropped += text.length;
      return;
    }
    const taken = text.length <= room ? text : text.slice(0, room);
    this.parts.push(taken);
    this.kept += taken.length;
    this.dropped += text.length - taken.length;
  }

  get length(): number {
    return this.kept;
  }

  /** Letta returns stdout/stderr as a list of strings: one entry with everything, or none. */
  toList(): string[] {
    if (this.kept === 0 && this.dropped === 0) return [];
    const text = this.parts.join('');
    return [this.dropped > 0 ? `${text}\n[output truncated: ${this.dropped} more characters were dropped]` : text];
  }
}

/** Letta's cut of a tool's return value: the first `limit` characters and a note saying how long it was. */
export function truncateReturnValue(value: string, limit: number, originalLength = value.length): string {
  if (originalLength <= limit && value.length <= limit) return value;
  return `${value.slice(0, limit)}... [NOTE: function output was truncated since it exceeded the character limit (${originalLength} > ${limit})]`;
}

/** Letta's tool_return for a failed call. */
export function errorReturn(errorType: string, message: string): string {
  return message ? `${errorType}: ${message}` : errorType;
}
