/** The SkillEngine's generation loop: context budget, streaming, end of turn, Stop between steps. */
import type { PackManifest } from './config';
import type { GenerateParams, GenerateStats, TokenEvent } from './engine';
import { TextStream } from './text-stream';
import type { ChatTokenizer } from './tokenizer';

/**
 * Let queued messages (Stop) in between decode steps: wasm runs can resolve without leaving the microtask
 * queue. A MessageChannel task queues behind them, unlike scheduler.yield() (which jumps ahead) and
 * unlike setTimeout (clamped to 4 ms when nested).
 */
const yieldChannel = new MessageChannel();
const yieldWaiters: (() => void)[] = [];
yieldChannel.port1.onmessage = () => yieldWaiters.shift()?.();
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    yieldWaiters.push(resolve);
    yieldChannel.port2.postMessage(null);
  });
}

/** What an engine supplies: feed tokens at positions pastLen.. and return the next token it chose. */
export interface DecodeStepper {
  next(ids: number[], pastLen: number): Promise<number>;
}

export interface DecodeLoopOptions {
  manifest: PackManifest;
  tokenizer: ChatTokenizer;
  /** Positions the engine can hold (the pack's context, or less where the engine's cache is smaller). */
  contextLength: number;
  params: GenerateParams;
  onToken: (e: TokenEvent) => void;
  stopRequested: () => boolean;
}

/** Python's str.isspace characters: JS's \s lacks U+001C-U+001F and U+0085 and adds U+FEFF. */
const LEADING_PY_SPACE = /^[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*/;

/**
 * True once a non-blank line has ended; decoding on cannot change the first non-blank line. The same test as
 * training/runner.py line_complete ("\n" in text.lstrip()), whitespace as Python counts it.
 */
export function lineComplete(text: string): boolean {
  return text.replace(LEADING_PY_SPACE, '').includes('\n');
}

export async function decodeLoop(stepper: DecodeStepper, o: DecodeLoopOptions): Promise<GenerateStats> {
  const context = o.contextLength;
  let prompt = o.tokenizer.encodeChat(o.params.messages);
  // Keep the end of an over-long conversation: the newest turn and the assistant opening matter most.
  // The answer's reserve is at most half the context, so a large max-new-tokens cannot squeeze the prompt out.
  const reserve = Math.max(1, Math.min(o.params.maxNewTokens, Math.floor(context / 2)));
  const truncatedTokens = Math.max(0, prompt.length - (context - reserve));
  if (truncatedTokens > 0) prompt = prompt.slice(truncatedTokens);
  const maxNew = Math.max(1, Math.min(o.params.maxNewTokens, context - prompt.length));
  const eos = new Set(o.manifest.generation.eosTokenIds);
  const stream = new TextStream((ids) => o.tokenizer.decode(ids));
  const tokenIds: number[] = [];
  const t0 = performance.now();
  let next = await stepper.next(prompt, 0);
  const prefillMs = performance.now() - t0;
  let stopReason: GenerateStats['stopReason'] = 'max-tokens';
  for (;;) {
    await yieldToEventLoop();
    if (o.stopRequested()) {
      stopReason = 'stopped';
      break;
    }
    if (eos.has(next) && !o.params.ignoreEos) {
      stopReason = 'eos';
      break;
    }
    tokenIds.push(next);
    o.onToken({ tokenId: next, delta: stream.push(next) });
    if (tokenIds.length >= maxNew) break;
    if (o.params.stopAtLineEnd && lineComplete(stream.text)) {
      stopReason = 'line-end';
      break;
    }
    if (prompt.length + tokenIds.length >= context) {
      stopReason = 'context-full';
      break;
    }
    next = await stepper.next([next], prompt.length + tokenIds.length - 1);
  }
  return {
    promptTokens: prompt.length,
    generatedTokens: tokenIds.length,
    truncatedTokens,
    prefillMs,
    decodeMs: performance.now() - t0 - prefillMs,
    stopReason,
    text: stream.text,
    tokenIds,
  };
}
