/** Reading a skill the user pasted or dropped: SKILL.md front matter, and refusing what is not text. */
import { parseDocument, visit, type ScalarTag, type Tags } from 'yaml';
import { SkillInputError } from '../errors';

export const MAX_SKILL_BYTES = 1 << 20;

export interface SkillText {
  /** The text the hypernetwork reads: the whole SKILL.md, front matter included (as in training). */
  text: string;
  name: string;
  description: string;
  /** Things the user should know that do not stop the adapter from being made. */
  warnings: string[];
}

export { SkillInputError };

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

/** Why front matter was not read; the same cases, in the same order, as training/skills/skill.py parse_skill_md. */
export type FrontMatterProblem = 'not-opened' | 'not-closed' | 'not-yaml' | 'not-mapping' | 'no-name' | 'no-description';

export type FrontMatter =
  | { ok: true; name: string; description: string; fields: Record<string, unknown>; body: string }
  | { ok: false; problem: FrontMatterProblem; message: string; fields?: Record<string, unknown>; body?: string };

// PyYAML's implicit resolvers (YAML 1.1 as yaml.safe_load reads it), where the yaml package's 1.1 schema differs:
// it also reads y/n as booleans, 09 and 1e3 as numbers and 2024-1-1 as a date, which Python keeps as strings.
const PY_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PY_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;
const PY_INT = /^[-+]?(?:0|[1-9][0-9_]*)$/;
const PY_INT_TIME = /^[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+$/;
const PY_FLOAT = /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)$/;
const PY_FLOAT_EXP = /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*[eE][-+][0-9]+|\.[0-9][0-9_]*[eE][-+][0-9]+)$/;
const PY_TIMESTAMP =
  /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$/;

const YAML_TAG = 'tag:yaml.org,2002:';
/** PyYAML resolves a plain `=` to a tag yaml.safe_load cannot construct, so it fails: the same here. */
const valueTag: ScalarTag = {
  tag: `${YAML_TAG}value`,
  default: true,
  test: /^=$/,
  resolve: (str, onError) => {
    onError('a plain "=" is the YAML 1.1 value key, which safe_load refuses');
    return str;
  },
};

/** The yaml package's 1.1 tags with PyYAML's patterns for which plain scalars are not strings. */
function pyYamlTags(tags: Tags): Tags {
  const patched = tags.map((t) => {
    if (typeof t === 'string' || 'collection' in t || !(t.test instanceof RegExp)) return t;
    const { tag, format, test: own } = t as ScalarTag & { test: RegExp };
    const kind = tag.slice(YAML_TAG.length);
    let test: RegExp | undefined;
    if (kind === 'bool') test = own.test('true') ? PY_TRUE : PY_FALSE;
    else if (kind === 'int' && !format) test = PY_INT;
    else if (kind === 'int' && format === 'TIME') test = PY_INT_TIME;
    else if (kind === 'float' && format === 'EXP') test = PY_FLOAT_EXP;
    else if (kind === 'float' && !format && !own.test('.nan')) test = PY_FLOAT;
    else if (kind === 'timestamp') test = PY_TIMESTAMP;
    return test ? { ...(t as ScalarTag), test } : t;
  });
  return [...patched, valueTag];
}

/** Python's str.strip(): JavaScript's trim() also strips a byte order mark and keeps \x1c-\x1f and \x85. */
function pyStrip(s: string): string {
  const space = '[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
  return s.replace(new RegExp(`^${space}+|${space}+$`, 'g'), '');
}

const plainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

/**
 * SKILL.md front matter read as training/skills/skill.py parse_skill_md reads it (yaml.safe_load): the same name and
 * description, and a refusal in the same cases. Both sides are checked on e2e/fixtures/front-matter/cases.json.
 */
export function readFrontMatter(input: string): FrontMatter {
  const lines = input.replace(/\r\n/g, '\n').split('\n');
  if (pyStrip(lines[0]) !== '---') return { ok: false, problem: 'not-opened', message: 'the text does not start with a "---" line' };
  const end = lines.findIndex((l, i) => i > 0 && pyStrip(l) === '---');
  if (end < 0) return { ok: false, problem: 'not-closed', message: 'the front matter opened by "---" is never closed' };
  const body = lines.slice(end + 1).join('\n').replace(/^\n+/, '');
  let fields: unknown;
  try {
    const source = lines.slice(1, end).join('\n');
    const doc = parseDocument(source, { schema: 'yaml-1.1', customTags: pyYamlTags, uniqueKeys: false, prettyErrors: false });
    // Warnings include unknown tags (e.g. !!python/object), which safe_load refuses.
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) return { ok: false, problem: 'not-yaml', message: `the front matter is not valid YAML: ${problem.message.split('\n')[0]}`, body };
    // A block scalar (| or >) running to the end of the text has no final line break to keep; PyYAML adds none.
    visit(doc, {
      Scalar(_key, node) {
        const block = node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED';
        if (block && node.range?.[1] === source.length && !source.endsWith('\n') && typeof node.value === 'string') node.value = node.value.replace(/\n$/, '');
      },
    });
    fields = doc.toJS();
  } catch (e) {
    return { ok: false, problem: 'not-yaml', message: `the front matter is not valid YAML: ${(e as Error).message.split('\n')[0]}`, body };
  }
  if (!plainObject(fields)) return { ok: false, problem: 'not-mapping', message: 'the front matter is not a YAML mapping of fields', body };
  for (const field of ['name', 'description'] as const) {
    const value = fields[field];
    if (typeof value !== 'string' || !pyStrip(value)) {
      return { ok: false, problem: field === 'name' ? 'no-name' : 'no-description', message: `the front matter has no text "${field}"`, fields, body };
    }
  }
  return { ok: true, name: fields.name as string, description: fields.description as string, fields, body };
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
  const front = readFrontMatter(text);
  // Python refuses front matter without a description; here the name alone is enough to name the adapter.
  const field = (key: 'name' | 'description') => (typeof front.fields?.[key] === 'string' ? (front.fields[key] as string) : '');
  let name = pyStrip(field('name')) ? field('name') : '';
  const description = field('description');
  if (!front.ok && front.problem === 'not-closed') {
    warnings.push('The front matter opened by "---" is never closed; the whole text is used as the skill.');
  } else if (!front.ok && front.problem !== 'not-opened' && front.problem !== 'no-description') {
    const why = front.problem === 'no-name' ? 'has no "name"' : front.message.replace(/^the front matter /, '');
    warnings.push(`The front matter ${why}; the first line of the body names the skill.`);
  }
  if (!name) {
    // Unclosed front matter: the line after the opening "---" (the whole text is the skill).
    const rest = front.body ?? (!front.ok && front.problem === 'not-closed' ? text.split('\n').slice(1).join('\n') : text);
    const firstLine = rest.split('\n').find((l) => l.trim()) ?? 'skill';
    name = firstLine.replace(/^#+\s*/, '').trim().slice(0, 60);
  }
  return { text, name, description, warnings };
}
