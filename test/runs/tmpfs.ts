/**
 * A real small file system for write-error tests: a tmpfs of a given size mounted in a temp folder
 * (needs root). `mountTmpfs` returns the folder, or the reason it could not mount it; tests skip with
 * that reason, except under CI (`CI` set), where not being able to mount is a failure.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type Mounted = { ok: true; dir: string; unmount(): void } | { ok: false; reason: string };

export function mountTmpfs(opts: { sizeBytes: number; readOnly?: boolean }): Mounted {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { ok: false, reason: 'mounting a tmpfs needs root' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-tmpfs-'));
  const options = `size=${opts.sizeBytes}${opts.readOnly === true ? ',ro' : ''},mode=0777`;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    fs.rmdirSync(dir);
    const err = e as { stderr?: Buffer; message: string };
    return { ok: false, reason: `mount -t tmpfs failed: ${err.stderr?.toString().trim() || err.message}` };
  }
  return {
    ok: true,
    dir,
    unmount: () => {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      fs.rmdirSync(dir);
    },
  };
}

/**
 * Runs `fn` with a fresh tmpfs of `sizeBytes` mounted (unmounted afterwards, whatever happens).
 * Without root or when mounting fails, the test is skipped with the reason, or fails under CI.
 */
export async function withTmpfs(t: { skip(message?: string): void }, opts: { sizeBytes: number; readOnly?: boolean }, fn: (dir: string) => void | Promise<void>): Promise<void> {
  const m = mountTmpfs(opts);
  if (!m.ok) {
    if (process.env.CI !== undefined && process.env.CI !== '') throw new Error(`CI is set, so this test may not be skipped: ${m.reason}`);
    t.skip(m.reason);
    return;
  }
  try {
    await fn(m.dir);
  } finally {
    m.unmount();
  }
}
