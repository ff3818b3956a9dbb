import { useState } from 'react';
import { AdapterList } from './AdapterList';
import { Chat } from './Chat';
import { Compare } from './Compare';
import { OpenPack } from './OpenPack';
import { PackStatus } from './PackStatus';
import { Settings } from './Settings';
import { SkillPanel } from './SkillPanel';

export function App() {
  const [skill, setSkill] = useState('');
  return (
    <div className="app">
      <header>
        <h1>Parametric Skills</h1>
        <p className="tagline">Turn a written skill into a LoRA adapter on your own GPU, then chat without the skill in context.</p>
      </header>
      <PackStatus />
      <OpenPack />
      <main>
        <div className="column">
          <SkillPanel skill={skill} onSkill={setSkill} />
          <AdapterList />
          <Chat />
          <Compare skill={skill} />
        </div>
        <aside>
          <Settings />
        </aside>
      </main>
    </div>
  );
}
