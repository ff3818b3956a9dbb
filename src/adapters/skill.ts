/** Reading a skill the user pasted or dropped: SKILL.md front matter, and refusing what is not text. */

export const MAX_SKILL_BYTES = 1 << 20;

export interface SkillText {
  /** The text the hypernetwork reads: the whole SKILL.md, front matter included (as in training). */
  text: string;
  name: string;
  description: string;
  /** Things the user should know that do not stop the adapter from being made. */
  warnings: string[];
}

export class SkillInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SkillInputError';
  }
}

/** Decode dropped bytes as UTF-8 text, refusing binary files and invalid UTF-8 with a clear message. */
export function decodeSkillFile(bytes: Uint8Array, fileName: string): string {
  if (bytes.byteLength > MAX_SKILL_BYTES) {
    throw new SkillInputError(`${fileName} is ${(bytes.byteLength / 1048576).toFixed(1)} MB; a skill may be at most 1 MB of text.`);
  }
  if (bytes.includes(0)) throw new SkillInputError(`${fileName} looks like a binary file, not a SKILL.md text.`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SkillInputError(`${fileName} is not valid UTF-8 text.`);
  }
}

/** One `key: value` line of front matter; quoted values lose their quotes. Nested YAML is kept as text. */
function frontMatterValue(lines: string[], key: string): string {
  const line = lines.find((l) => l.startsWith(`${key}:`));
  if (!line) return '';
  const raw = line.slice(key.length + 1).trim();
  if (/^".*"$/.test(raw)) {
    try {
      return JSON.parse(raw) as string;
    } catch {
      return raw.slice(1, -1);
    }
  }
  return raw.replace(/^'(.*)'$/, '$1');
}

export function parseSkill(input: string): SkillText {
  const text = input.replace(/\r\n/g, '\n');
  if (!text.trim()) throw new SkillInputError('The skill is empty: paste a SKILL.md or describe the skill in a few lines.');
  if (new TextEncoder().encode(text).byteLength > MAX_SKILL_BYTES) {
    throw new SkillInputError('The skill is larger than 1 MB of text; shorten it to what the model should follow.');
  }
  // Control characters other than tab/newline mean a binary paste, not a recipe.
  const control = text.match(/[\u0000-\u0008\u000e-\u001f\ufffd]/g)?.length ?? 0;
  if (control > Math.max(8, text.length / 100)) throw new SkillInputError('The skill looks like binary data, not text.');
  const warnings: string[] = [];
  let name = '';
  let description = '';
  if (text.startsWith('---\n')) {
    const end = text.indexOf('\n---', 4);
    if (end < 0) {
      warnings.push('The front matter opened by "---" is never closed; the whole text is used as the skill.');
    } else {
      const lines = text.slice(4, end).split('\n');
      name = frontMatterValue(lines, 'name');
      description = frontMatterValue(lines, 'description');
      if (!name) warnings.push('The front matter has no "name"; the first line of the body names the skill.');
    }
  }
  if (!name) {
    const firstLine = text.replace(/^---\n[\s\S]*?\n---\n?/, '').split('\n').find((l) => l.trim()) ?? 'skill';
    name = firstLine.replace(/^#+\s*/, '').trim().slice(0, 60);
  }
  return { text, name, description, warnings };
}
