import { useState } from 'react';
import { AdapterList } from './AdapterList';
import { Chat } from './Chat';
import { Compare } from './Compare';
import { OpenPack } from './OpenPack';
import { PackStatus } from './PackStatus';
import { Settings } from './Settings';
import { SkillPanel } from './SkillPanel';
import { useApp } from './StoreContext';

/** Where the work runs, as the loaded engine says: the GPU only when WebGPU runs it. */
function where(backend: string | undefined): string {
  if (backend === 'webgpu') return 'on your own GPU (WebGPU)';
  if (backend === 'wasm') return 'on your own CPU (WebAssembly)';
  return 'in your browser';
}

export function App() {
  const [skill, setSkill] = useState('');
  const backend = useApp((s) => s.pack?.backend);
  return (
    <div className="app">
      <header>
        <h1>Parametric Skills</h1>
        <p className="tagline" data-testid="tagline">
          Turn a written skill into a LoRA adapter {where(backend)}, then chat without the skill in context.
        </p>
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
