/**
 * LoRA tensor types shared by the engine, its backends and the hypernetwork. A leaf: the engine interface and the
 * hypernetwork both import it, so neither imports the other.
 */

/** Stacked LoRA of one target module: A [layers, in, R] and B [layers, R, out], R = slots * rank, scale folded into B. */
export interface LoraPair {
  a: Float32Array;
  b: Float32Array;
}
export type LoraTensors = Record<string, LoraPair>;

/** One adapter as the hypernetwork makes it: per module A [layers, in, rank] and B [layers, rank, out], unscaled. */
export type AdapterModules = Record<string, LoraPair>;
