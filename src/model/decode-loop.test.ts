import { describe, expect, it } from 'vitest';
import type { PackManifest } from './config';
import { decodeLoop, lineComplete, type DecodeStepper } from './decode-loop';
import type { GenerateParams } from './engine';
import type { ChatTokenizer } from './tokenizer';

// A vocabulary of text pieces; id 0 is the end-of-turn token (decodes to nothing, like a skipped special token).
const VOCAB = ['', 'Fix', ' the', ' login', '\n', '\n\n', ' ', 'feat', ':', ' add', ' x', '.\n', 'tail'];
const EOS = 0;
const tokenizer = {
  encodeChat: () => [1, 2, 3],
  decode: (ids: number[]) => ids.map((i) => VOCAB[i]).join(''),
} as unknown as ChatTokenizer;
const manifest = { generation: { eosTokenIds: [EOS], contextLength: 64 } } as unknown as PackManifest;

/** Answers a fixed continuation, one token per step, and records the positions it was asked for. */
function scripted(continuation: number[]): DecodeStepper & { positions: number[] } {
  let i = 0;
  const positions: number[] = [];
  return {
    positions,
    async next(_ids, pastLen) {
      positions.push(pastLen);
      return continuation[i++] ?? EOS;
    },
  };
}

function run(continuation: number[], params: Partial<GenerateParams>) {
  const stepper = scripted(continuation);
  const full: GenerateParams = { messages: [], maxNewTokens: 48, temperature: 0, topP: 1, ...params };
  const done = decodeLoop(stepper, { manifest, tokenizer, contextLength: 64, params: full, onToken: () => undefined, stopRequested: () => false });
  return done.then((stats) => ({ stats, stepper }));
}

/** The benchmark's answer rule (training/runner.py first_line_answer): the first non-blank line, trimmed. */
const firstLine = (text: string) => text.split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/).map((l) => l.trim()).find((l) => l) ?? '';

describe('decodeLoop', () => {
  it('stops at the end-of-turn token without keeping it, or after maxNewTokens', async () => {
    const eos = await run([7, 8, EOS, 9], {});
    expect(eos.stats).toMatchObject({ stopReason: 'eos', text: 'feat:', tokenIds: [7, 8], generatedTokens: 2, promptTokens: 3 });
    expect(eos.stepper.positions).toEqual([0, 3, 4]);
    const capped = await run([7, 8, 9, 10], { maxNewTokens: 3 });
    expect(capped.stats).toMatchObject({ stopReason: 'max-tokens', tokenIds: [7, 8, 9] });
  });

  it('stopAtLineEnd ends after the first non-blank line and keeps the answer a full decode gives', async () => {
    const continuations = [
      [1, 2, 3, 4, 12, 12, 12], // "Fix the login\n" then more
      [4, 5, 6, 7, 8, 9, 10, 11, 12], // blank lines first: the answer is the line after them
      [7, 8, 9, 10, 11, 12, 12], // a token that ends in a newline
      [1, 2, 3, EOS], // no newline before the end of turn
    ];
    for (const c of continuations) {
      const whole = await run(c, { ignoreEos: false });
      const stopped = await run(c, { stopAtLineEnd: true });
      expect(firstLine(stopped.stats.text)).toBe(firstLine(whole.stats.text));
      expect(stopped.stats.generatedTokens).toBeLessThanOrEqual(whole.stats.generatedTokens);
    }
    const first = await run(continuations[0], { stopAtLineEnd: true });
    expect(first.stats).toMatchObject({ stopReason: 'line-end', text: 'Fix the login\n', generatedTokens: 4 });
    const blank = await run(continuations[1], { stopAtLineEnd: true });
    expect(blank.stats).toMatchObject({ stopReason: 'line-end', text: '\n\n\n feat: add x.\n' });
    const none = await run(continuations[3], { stopAtLineEnd: true });
    expect(none.stats.stopReason).toBe('eos');
  });

  it('lineComplete: a newline counts only after non-blank text', () => {
    expect(lineComplete('')).toBe(false);
    expect(lineComplete('\n\n  \n')).toBe(false);
    expect(lineComplete('  abc')).toBe(false);
    expect(lineComplete('\n abc\n')).toBe(true);
    expect(lineComplete('abc\r\n')).toBe(true);
    // Python's lstrip drops U+001C and U+0085 and keeps U+FEFF; JS trimStart does the opposite.
    expect(lineComplete('\x1c\n\x85\n')).toBe(false);
    expect(lineComplete('\ufeff\n')).toBe(true);
  });
});
