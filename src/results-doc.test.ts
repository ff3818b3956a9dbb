// docs/results.md is generated from the result files (scripts/results-doc.mjs): it must match them.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OUT, PROSE, ROOT, loadResults, renderResults, shapeOf } from '../scripts/results-doc.mjs';

const readJson = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));
/** Percent with one decimal, written here rather than taken from the script. */
const pct = (v: number) => (v * 100).toFixed(1);

/** The text under the heading that names `name` (a file, or an eval_base entry), up to the next heading of its level or above. */
function sectionOf(doc: string, name: string, level = '###'): string {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => l === `${level} \`${name}\``);
  expect(start, `no heading for ${name}`).toBeGreaterThanOrEqual(0);
  const depth = level.length;
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && l.indexOf(' ') <= depth);
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

/** The cells of the first table row in `text` whose first cell is `first`, keyed by the table's header. */
function row(text: string, first: string): Record<string, string> {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  expect(i, `no row ${first}`).toBeGreaterThan(1);
  let h = i;
  while (h > 0 && lines[h - 1].startsWith('|')) h--;
  const cells = (l: string) => l.slice(2, -2).split(' | ');
  const header = cells(lines[h]);
  return Object.fromEntries(cells(lines[i]).map((c, k) => [header[k], c]));
}

describe('docs/results.md', () => {
  it('is what scripts/results-doc.mjs writes from the committed result files (run npm run docs:results)', () => {
    expect(readFileSync(join(ROOT, OUT), 'utf8')).toBe(renderResults());
  });

  const doc = renderResults();

  it('shows the skill benchmark figures of their file', () => {
    const j = readJson('bench/results/skills-python-gpurecipe.json');
    const adapter = row(sectionOf(doc, 'bench/results/skills-python-gpurecipe.json'), '`adapter`');
    const train = j.conditions.adapter.train;
    expect(adapter['train skills (n=25)']).toBe(`${pct(train.pass_rate.mean)} ± ${pct(train.pass_rate.std)}`);
    expect(train.pass_rate.seeds).toHaveLength(3);
    const phr = j.conditions.adapter.heldout_phrasing.pass_rate;
    expect(adapter['held-out phrasings (n=25)']).toBe(`${pct(phr.mean)} ± ${pct(phr.std)}`);
  });

  it('shows the base model in context from base-eval.json', () => {
    const small = readJson('bench/results/base-eval.json').small.conditions;
    const section = sectionOf(sectionOf(doc, 'bench/results/base-eval.json'), 'small', '####');
    const icl = row(section, '`icl`');
    expect(icl[`held-out parameters (n=${small.icl.heldout_params.n_cases})`]).toBe(pct(small.icl.heldout_params.pass_rate));
    expect(icl[`train skills (n=${small.icl.train.n_cases})`]).toBe(pct(small.icl.train.pass_rate));
  });

  it('shows the speed ratios of perf.json', () => {
    const r = readJson('bench/results/perf.json').packs['small-skills'].ratios.wgsl_vs_ort_decode;
    const cell = row(sectionOf(doc, 'bench/results/perf.json'), '`wgsl_vs_ort_decode`')['small-skills'];
    expect(Number(cell.split(' ')[0])).toBeCloseTo(r.median, 2);
  });

  it('shows what an adapter knows of its parameters (sibling) from adapter-ce-params-20min.json', () => {
    const j = readJson('bench/results/adapter-ce-params-20min.json').splits.heldout_params;
    const section = sectionOf(doc, 'bench/results/adapter-ce-params-20min.json');
    const header = `held-out parameters (n=${j.n_cases})`;
    expect(row(section, '`sibling`')[header]).toBe(j.sibling.ce.mean.toFixed(2));
    expect(row(section, 'own adapter below sibling (% of case × seed)')[header]).toBe(pct(j.sibling_differs.own_below_sibling));
    expect(row(section, 'sibling − own (nats per token)')[header]).toBe(j.sibling_differs.ce_gap.toFixed(3));
  });

  it('has no figures in its hand-written prose', () => {
    for (const [key, text] of Object.entries(PROSE)) expect(text.replace(/`[^`]*`/g, ''), key).not.toMatch(/\d/);
  });

  it('renders every committed result file by a known shape', () => {
    expect(loadResults().filter((f) => shapeOf(f.path, f.json) === 'unknown').map((f) => f.path)).toEqual([]);
  });
});

describe('result files still to come', () => {
  let root = '';
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const split = (rate: number, n = 10) => ({ n_cases: n, pass_rate: rate, exact_match: rate, token_f1: rate });
  const seeds = (...v: number[]) => ({ mean: v.reduce((a, b) => a + b) / v.length, std: 0.05, seeds: v });

  it('renders base-eval-v2, skills-v2-*, perf-cpu and unknown files, and skips what is missing', () => {
    root = mkdtempSync(join(tmpdir(), 'results-doc-'));
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    const write = (name: string, json: unknown) => writeFileSync(join(root, 'bench/results', name), JSON.stringify(json));
    write('base-eval-v2.json', {
      'gemma-skill': {
        conditions: { icl: { train: split(0.25), heldout_family: split(0.125) }, no_skill: { train: split(0.05), heldout_family: split(0) } },
        general_text: { perplexity: 21.4375, tokens: 4096 },
        command: 'python -m training.eval_base --model gemma-skill',
      },
    });
    write('skills-v2-gemma.json', {
      pack: 'gemma-3-270m', path: 'pytorch', hypernets: ['a', 'b'], n_cases: 20,
      conditions: { base: { train: { n_cases: 10, pass_rate: seeds(0.1, 0.1) } }, adapter: { train: { n_cases: 10, pass_rate: seeds(0.3, 0.4) } } },
      command: 'python -m training.bench_skills --out bench/results/skills-v2-gemma.json',
    });
    write('perf-cpu.json', { command: 'npm run bench:perf -- --out bench/results/perf-cpu.json', ratios: { adapter_vs_plain_decode: { median: 0.987, per_rep: [0.9, 1.1] } } });
    write('mystery.json', { command: 'make mystery', values: [1, 2] });

    const doc = renderResults(root);
    const gemma = sectionOf(sectionOf(doc, 'bench/results/base-eval-v2.json'), 'gemma-skill', '####');
    expect(row(gemma, '`icl`')['held-out families (n=10)']).toBe('12.5');
    expect(gemma).toContain('General-text perplexity: 21.44 over 4096 tokens');
    expect(gemma).toContain('python -m training.eval_base --model gemma-skill');
    expect(doc).toContain('## Skill benchmark: Gemma 3 270M');
    expect(row(sectionOf(doc, 'bench/results/skills-v2-gemma.json'), '`adapter`')['train skills (n=10)']).toBe('35.0 ± 5.0');
    expect(row(sectionOf(doc, 'bench/results/perf-cpu.json'), '`adapter_vs_plain_decode`').median).toBe('0.987 (0.9–1.1)');
    expect(doc).toContain('- `bench/results/mystery.json`: `make mystery`');
    expect(doc).not.toContain('## Training records');
  });
});
