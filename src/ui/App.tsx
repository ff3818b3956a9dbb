import { Chat } from './Chat';
import { PackStatus } from './PackStatus';
import { Settings } from './Settings';

export function App() {
  return (
    <div className="app">
      <header>
        <h1>Parametric Skills</h1>
        <p className="tagline">Turn a written skill into a LoRA adapter on your own GPU, then chat without the skill in context.</p>
      </header>
      <PackStatus />
      <main>
        <Chat />
        <aside>
          <Settings />
        </aside>
      </main>
    </div>
  );
}
