/** Saving a file the app made (an exported adapter) to the user's disk. */
import type { ExportedFile } from '../state/types';

/** Start a browser download of the file. */
export function downloadFile({ name, bytes, type }: ExportedFile): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  // Revoking at once can cancel the download in some browsers; a minute is ample to start it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
