// The layering docs/architecture.md describes, checked on the source: imports flow one way between folders, no
// module imports itself back through others, and no source file outgrows what one reader takes in.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname);
const MAX_LINES = 450;

/** What each layer may import besides itself (ui -> state -> adapters -> model -> kernels -> formats, errors). */
const ALLOWED: Record<string, string[]> = {
  errors: [],
  formats: ['errors'],
  kernels: ['formats', 'errors'],
  model: ['kernels', 'formats', 'errors'],
  adapters: ['model', 'formats', 'errors'],
  state: ['adapters', 'model', 'formats', 'errors'],
  ui: ['state', 'adapters', 'model', 'formats', 'errors'],
  // Entry points: the app, and the harness pages of test builds.
  main: ['ui', 'state', 'adapters', 'model', 'kernels', 'formats', 'errors'],
  harness: ['ui', 'state', 'adapters', 'model', 'kernels', 'formats', 'errors'],
  'kernels-harness': ['ui', 'state', 'adapters', 'model', 'kernels', 'formats', 'errors'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}

/** The project files a module imports (type-only imports included: they tie modules together just the same). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*'([^']+)'|(?:^|\n)\s*import\s*'([^']+)'/g)].map((m) => m[1] ?? m[2]);
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) => {
      const base = resolve(dirname(file), s.replace(/\?.*$/, ''));
      for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) {
        try {
          if (statSync(candidate).isFile()) return candidate;
        } catch {
          // not this one
        }
      }
      return base;
    })
    .filter((p) => /\.tsx?$/.test(p));
}

function layerOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.includes('/') ? rel.split('/')[0] : rel.replace(/\.tsx?$/, '');
}

const files = sources(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

/** Strongly connected components with more than one module (or a module importing itself): the import circles. */
function circles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.sort());
    }
  };
  for (const f of graph.keys()) if (!index.has(f)) visit(f);
  return found;
}

describe('architecture', () => {
  it('finds the modules and their imports (the check itself works)', () => {
    expect(files.length).toBeGreaterThan(40);
    expect(graph.get(join(SRC, 'state/store.ts'))).toContain(join(SRC, 'state/context.ts'));
  });

  it('has no import circles', () => {
    // The finder itself, on a made-up graph: a -> b -> c -> a is one circle, d -> d another, e alone none.
    const made = new Map([['a', ['b']], ['b', ['c']], ['c', ['a', 'e']], ['d', ['d']], ['e', []]]);
    expect(circles(made)).toEqual([['a', 'b', 'c'], ['d']]);
    expect(circles(graph).map((c) => c.map((f) => relative(SRC, f)))).toEqual([]);
  });

  it('imports flow one way between layers', () => {
    const wrong = files.flatMap((f) =>
      graph.get(f)!.filter((to) => layerOf(to) !== layerOf(f) && !(ALLOWED[layerOf(f)] ?? []).includes(layerOf(to))).map((to) => `${relative(SRC, f)} -> ${relative(SRC, to)}`),
    );
    expect(wrong).toEqual([]);
  });

  it(`keeps every source file under ${MAX_LINES} lines`, () => {
    const long = files.map((f) => [relative(SRC, f), readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > MAX_LINES);
    expect(long).toEqual([]);
  });
});
