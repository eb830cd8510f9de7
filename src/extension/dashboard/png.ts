/** Pure helper for the panel's PNG export (no `vscode` import, so it is unit-tested). */
import { PNG_DATA_URL_PREFIX } from '../../shared/webview-protocol';

/**
 * Decodes `data:image/png;base64,…` and checks the PNG signature, so a save dialog never writes
 * something that is not the chart the user asked for.
 */
export function decodePngDataUrl(dataUrl: string): Uint8Array {
  if (!dataUrl.startsWith(PNG_DATA_URL_PREFIX)) throw new Error('not a PNG data URL');
  const b64 = dataUrl.slice(PNG_DATA_URL_PREFIX.length);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new Error('PNG data URL is not valid base64');
  const bytes = Buffer.from(b64, 'base64');
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < signature.length || signature.some((b, i) => bytes[i] !== b)) throw new Error('data is not a PNG image');
  return bytes;
}

