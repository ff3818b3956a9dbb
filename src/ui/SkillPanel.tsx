import { useState, type DragEvent } from 'react';
import { decodeSkillFile, SkillInputError } from '../adapters/skill';
import { describeHypernet } from './format';
import { useApp } from './StoreContext';

const EXAMPLE = `---
name: branch-names
description: How we name git branches in this repository.
---

Branch names are \`<type>/<ticket>-<slug>\`: type is feat, fix or chore; the ticket is the issue key in upper case;
the slug is the summary in lower-case words joined by hyphens.
`;

export function SkillPanel({ skill, onSkill }: { skill: string; onSkill: (s: string) => void }) {
  const making = useApp((s) => s.making);
  const ready = useApp((s) => s.packStatus === 'ready');
  const generating = useApp((s) => s.generating);
  const note = useApp((s) => s.skillNote);
  const makeAdapter = useApp((s) => s.makeAdapter);
  const hypernet = useApp((s) => s.pack?.hypernet);
  const [fileNote, setFileNote] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);

  const readFile = async (file: File) => {
    try {
      onSkill(decodeSkillFile(new Uint8Array(await file.arrayBuffer()), file.name));
      setFileNote(`Loaded ${file.name}.`);
    } catch (e) {
      setFileNote(e instanceof SkillInputError ? e.message : `${file.name} could not be read.`);
    }
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer.files[0];
    if (file) void readFile(file);
  };

  return (
    <section className={`skill ${dragging ? 'dragging' : ''}`} aria-label="Skill" onDragOver={(e) => (e.preventDefault(), setDragging(true))} onDragLeave={() => setDragging(false)} onDrop={onDrop}>
      <h2>Skill</h2>
      <label htmlFor="skill-text">Paste a skill (SKILL.md) or drop a file here</label>
      {/* A one-line hint: the whole example in grey looked like a filled-in skill. */}
      <textarea id="skill-text" value={skill} rows={9} placeholder="Empty: paste a SKILL.md, drop a file here, or press Example" onChange={(e) => onSkill(e.target.value)} spellCheck={false} />
      <div className="skill-actions">
        <label className="file-button">
          Open SKILL.md…
          <input type="file" accept=".md,.txt,text/markdown,text/plain" onChange={(e) => e.target.files?.[0] && void readFile(e.target.files[0])} />
        </label>
        <button type="button" onClick={() => onSkill(EXAMPLE)}>
          Example
        </button>
        <button type="button" onClick={() => void makeAdapter(skill)} disabled={!ready || making || generating}>
          {making ? 'Making adapter…' : 'Make adapter'}
        </button>
      </div>
      {hypernet && (
        <p className="hint" data-testid="hypernet-info">
          {describeHypernet(hypernet)}
        </p>
      )}
      {(fileNote || note) && (
        <p className="notice" role="status" data-testid="skill-note">
          {[fileNote, note].filter(Boolean).join(' ')}
        </p>
      )}
    </section>
  );
}
