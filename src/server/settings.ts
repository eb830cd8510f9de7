/**
 * The editor settings as the server holds them (sent by the client at start and on every change)
 * and the workspace folders, giving each document the settings layer the run manager gives a run of
 * it (`src/config/settings.ts`): the same defaults, the same runs folder.
 */
import type { SettingsLayer } from '../config/layers';
import { settingsLayerFor } from '../config/settings';
import { uriToPath } from '../languageservice';
import type { ServerSettings } from '../shared/lsp-protocol';
import * as path from 'node:path';

export class ServerSettingsStore {
  private settings: ServerSettings | undefined;
  private folders: string[] = [];

  set(settings: ServerSettings): void {
    this.settings = settings;
  }

  setFolders(uris: readonly string[]): void {
    this.folders = uris.map(uriToPath);
  }

  changeFolders(added: readonly string[], removed: readonly string[]): void {
    const gone = new Set(removed.map(uriToPath));
    this.folders = [...this.folders.filter((f) => !gone.has(f)), ...added.map(uriToPath)];
  }

  /** The workspace folder holding `file` (the innermost, as the editor picks it), if any. */
  folderOf(file: string): string | undefined {
    return this.folders
      .filter((f) => file === f || file.startsWith(f.endsWith(path.sep) ? f : f + path.sep))
      .sort((a, b) => b.length - a.length)[0];
  }

  /** Undefined until the client has sent settings: the file then resolves on schema defaults alone. */
  layerFor(uri: string): SettingsLayer | undefined {
    if (this.settings === undefined) return undefined;
    const file = uriToPath(uri);
    return settingsLayerFor(this.settings.run, file, this.folderOf(file));
  }
}
