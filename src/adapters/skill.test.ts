import { describe, expect, it } from 'vitest';
import { decodeSkillFile, parseSkill, SkillInputError } from './skill';

const SKILL = '---\nname: branch-names\ndescription: "How we name branches: type/ticket-slug."\n---\n\nBranches are `<type>/<ticket>-<slug>`.\n';

describe('parseSkill', () => {
  it('reads name and description from the front matter and keeps the whole text', () => {
    const s = parseSkill(SKILL);
    expect(s).toMatchObject({ name: 'branch-names', description: 'How we name branches: type/ticket-slug.', warnings: [] });
    expect(s.text).toBe(SKILL);
  });

  it('names a skill without front matter after its first line', () => {
    expect(parseSkill('# Commit messages\nUse the imperative.').name).toBe('Commit messages');
  });

  it('warns about front matter that is never closed, and still accepts the text', () => {
    const s = parseSkill('---\nname: x\nBody without closing line');
    expect(s.warnings[0]).toMatch(/never closed/);
  });

  it.each([
    ['', /empty/],
    ['  \n\t ', /empty/],
    ['x'.repeat((1 << 20) + 1), /1 MB/],
    ['\u0001\u0002\u0003'.repeat(50), /binary/],
  ])('refuses bad input with a clear message (%#)', (input, message) => {
    expect(() => parseSkill(input)).toThrowError(SkillInputError);
    expect(() => parseSkill(input)).toThrowError(message);
  });
});

describe('decodeSkillFile', () => {
  it('decodes UTF-8', () => {
    expect(decodeSkillFile(new TextEncoder().encode('héllo'), 'SKILL.md')).toBe('héllo');
  });

  it('refuses binary files and invalid UTF-8, naming the file', () => {
    expect(() => decodeSkillFile(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1]), 'logo.png')).toThrowError(/logo.png looks like a binary/);
    expect(() => decodeSkillFile(Uint8Array.from([0x61, 0xff, 0xfe, 0x62]), 'SKILL.md')).toThrowError(/not valid UTF-8/);
  });
});
