/** Incremental detokenizer: holds back a few tokens while they end in an incomplete character. */
export class TextStream {
  private ids: number[] = [];
  private emitted = '';
  private held = 0;
  /** The decode of all ids pushed so far (kept so reading text costs no second decode). */
  private decoded = '';
  constructor(
    private readonly decode: (ids: number[]) => string,
    private readonly maxHeld = 4,
  ) {}

  push(id: number): string {
    this.ids.push(id);
    const text = this.decode(this.ids);
    this.decoded = text;
    // A byte-level token may split a UTF-8 character; a model emitting stray bytes must still stream.
    if ((text.endsWith('\uFFFD') && ++this.held < this.maxHeld) || !text.startsWith(this.emitted)) return '';
    this.held = 0;
    const delta = text.slice(this.emitted.length);
    this.emitted = text;
    return delta;
  }

  get text(): string {
    return this.decoded;
  }
}
