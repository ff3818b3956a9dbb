/** Tokenizer and chat template from the pack's own Hugging Face files, through transformers.js (no hub). */
import { PreTrainedTokenizer } from '@huggingface/transformers';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export class ChatTokenizer {
  private readonly tok: PreTrainedTokenizer;

  constructor(tokenizerJson: unknown, tokenizerConfig: Record<string, unknown>) {
    this.tok = new PreTrainedTokenizer(tokenizerJson as object, tokenizerConfig);
  }

  static fromBytes(tokenizerJson: Uint8Array, tokenizerConfig: Uint8Array): ChatTokenizer {
    const dec = new TextDecoder();
    return new ChatTokenizer(JSON.parse(dec.decode(tokenizerJson)), JSON.parse(dec.decode(tokenizerConfig)));
  }

  /** The prompt text of a conversation, ending with the assistant's turn opening. */
  renderChat(messages: ChatMessage[]): string {
    return this.tok.apply_chat_template(messages, { tokenize: false, add_generation_prompt: true }) as unknown as string;
  }

  encode(text: string): number[] {
    // The chat template already writes BOS and special tokens as text.
    return this.tok.encode(text, { add_special_tokens: false });
  }

  encodeChat(messages: ChatMessage[]): number[] {
    return this.encode(this.renderChat(messages));
  }

  get bosTokenId(): number | null {
    return this.tok.bos_token_id ?? null;
  }

  decode(ids: number[]): string {
    return this.tok.decode(ids, { skip_special_tokens: true });
  }
}
