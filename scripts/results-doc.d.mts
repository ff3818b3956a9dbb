// Types for scripts/results-doc.mjs (imported by src/results-doc.test.ts).
export type Shape = 'perf' | 'paired' | 'adapter_ce' | 'skills' | 'eval_base' | 'training' | 'unknown';
export declare const ROOT: string;
export declare const RESULT_DIRS: string[];
export declare const OUT: string;
export declare const PROSE: Record<string, string>;
export declare function pct(v: unknown): string;
export declare function fixed(v: unknown, digits?: number): string;
export declare function ratio(v: unknown): string;
export declare function meanStdPct(m: unknown): string;
export declare function loadResults(root?: string): { path: string; json: unknown }[];
export declare function shapeOf(path: string, json: unknown): Shape;
export declare function renderResults(root?: string): string;
