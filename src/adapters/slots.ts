/**
 * Composition of active adapters into the engine's stacked LoRA slots (rank concatenation). It runs where the engine
 * runs (src/model/lora-slots.ts); the store binds adapters by id and scale, and tests compose here to compare.
 */
export { composeSlots, type ActiveAdapter } from '../model/lora-slots';
