import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSkill, readFrontMatter } from './skill';

/** SKILL.md texts with what training/skills/skill.py parse_skill_md (yaml.safe_load) gives, written by Python. */
type Case = { id: string; text: string; expected: { name: string; description: string } | { error: string } };
const cases = (JSON.parse(readFileSync(join(import.meta.dirname, '../../e2e/fixtures/front-matter/cases.json'), 'utf8')) as { cases: Case[] }).cases;

describe('front matter agrees with Python (yaml.safe_load)', () => {
  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const front = readFrontMatter(c.text);
    if ('error' in c.expected) {
      expect(front.ok ? { name: front.name, description: front.description } : { error: front.problem }).toEqual(c.expected);
      return;
    }
    expect(front.ok ? { name: front.name, description: front.description } : { error: front.problem, message: front.message }).toEqual(c.expected);
    // The app names the adapter with the same name.
    expect(parseSkill(c.text).name).toBe(c.expected.name);
  });

  it('covers block scalars, quotes, lists and refusals', () => {
    const ids = new Set(cases.map((c) => c.id));
    for (const id of ['folded-name', 'literal-description', 'double-quoted-escapes', 'single-quoted', 'name-is-list', 'unclosed-flow']) expect(ids).toContain(id);
  });
});

describe('parseSkill with front matter Python refuses', () => {
  it('says why and names the skill after the body, keeping the whole text', () => {
    const text = '---\nname: [a\ndescription: bad\n---\n\n# Branch names\nUse hyphens.\n';
    const s = parseSkill(text);
    expect(s.text).toBe(text);
    expect(s.name).toBe('Branch names');
    expect(s.warnings).toEqual([expect.stringMatching(/^The front matter is not valid YAML: .+; the first line of the body names the skill\.$/)]);
  });

  it('keeps a name given without a description, as before', () => {
    const s = parseSkill('---\nname: only-a-name\n---\nBody.\n');
    expect(s).toMatchObject({ name: 'only-a-name', description: '', warnings: [] });
  });

  it('a name that YAML reads as a boolean is not a name', () => {
    const s = parseSkill('---\nname: yes\ndescription: d\n---\n\nCommit subjects\n');
    expect(s.name).toBe('Commit subjects');
    expect(s.warnings).toEqual(['The front matter has no "name"; the first line of the body names the skill.']);
  });
});
