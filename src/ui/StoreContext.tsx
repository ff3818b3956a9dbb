import { createContext, useContext } from 'react';
import { useStore, type StoreApi } from 'zustand';
import type { AppState } from '../state/store';

export const StoreContext = createContext<StoreApi<AppState> | null>(null);

export function useApp<T>(selector: (s: AppState) => T): T {
  const store = useContext(StoreContext);
  if (!store) throw new Error('StoreContext is missing');
  return useStore(store, selector);
}
