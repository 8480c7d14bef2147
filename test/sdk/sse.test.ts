/** The SDK's Server-Sent Events parser (packages/sdk/src/sse.ts) on the format's edge cases. */
import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from '../../packages/sdk/src/index.js';

function parse(chunks: string[]): SseEvent[] {
  const out: SseEvent[] = [];
  const p = new SseParser((e) => out.push(e));
  for (const c of chunks) p.push(c);
  return out;
}

describe('SseParser', () => {
  it('reads id, event and data; ignores comments; keeps the last id for later events', () => {
    const events = parse([': heartbeat\n\nid: n-1\nevent: invalidate\ndata: {"kind":"all"}\n\nevent: ready\ndata: {}\n\n']);
    expect(events).toEqual([
      { id: 'n-1', event: 'invalidate', data: '{"kind":"all"}' },
      { id: 'n-1', event: 'ready', data: '{}' },
    ]);
  });

  it('handles CRLF, CR and LF line ends and events split across chunks anywhere', () => {
    const text = 'id: a-1\r\nevent: invalidate\r\ndata: x\r\n\r\nid: a-2\rdata: y\r\rdata: z\n\n';
    const whole = parse([text]);
    expect(whole.map((e) => [e.id, e.event, e.data])).toEqual([
      ['a-1', 'invalidate', 'x'],
      ['a-2', 'message', 'y'],
      ['a-2', 'message', 'z'],
    ]);
    for (let cut = 1; cut < text.length; cut++) expect(parse([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
    expect(parse(text.split(''))).toEqual(whole);
  });

  it('joins multi-line data and dispatches nothing for an event without data', () => {
    expect(parse(['data: a\ndata: b\n\nevent: x\n\n'])).toEqual([{ id: undefined, event: 'message', data: 'a\nb' }]);
  });
});
