/**
 * A Server-Sent Events reader over Node 20's global fetch: parses the `text/event-stream` format
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html, "Interpreting an event stream")
 * line by line. Only what Keyward's stream uses: `id`, `event`, `data`, comments; `retry` is ignored
 * (the caller has its own backoff).
 */

export interface SseEvent {
  /** The last event id seen so far (the spec's "last event ID buffer"). */
  id: string | undefined;
  event: string;
  data: string;
}

/** Feeds chunks in; calls `onEvent` per complete event and `onActivity` per line (comments included). */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private lastId: string | undefined;
  private sawField = false;

  constructor(
    private readonly onEvent: (e: SseEvent) => void,
    private readonly onActivity: () => void = () => undefined,
  ) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let start = 0;
    for (;;) {
      const nl = this.nextBreak(start);
      if (nl === -1) break;
      const line = this.buffer.slice(start, nl.index);
      start = nl.index + nl.length;
      this.line(line);
    }
    this.buffer = this.buffer.slice(start);
  }

  /** The next line break (CRLF, LF or CR) at or after `from`; a CR at the very end waits for more input. */
  private nextBreak(from: number): { index: number; length: number } | -1 {
    for (let i = from; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c === 10) return { index: i, length: 1 };
      if (c === 13) {
        if (i + 1 === this.buffer.length) return -1;
        return { index: i, length: this.buffer.charCodeAt(i + 1) === 10 ? 2 : 1 };
      }
    }
    return -1;
  }

  private line(line: string): void {
    this.onActivity();
    if (line === '') {
      if (this.sawField && this.data.length > 0) this.onEvent({ id: this.lastId, event: this.event || 'message', data: this.data.join('\n') });
      this.data = [];
      this.event = '';
      this.sawField = false;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.sawField = true;
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
  }
}
