import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanLog } from '../../src/extension/clean-log';

class Recorder {
  lines: string[] = [];
  shown = 0;
  info(msg: string): void {
    this.lines.push(msg);
  }
  appendLine(msg: string): void {
    this.lines.push(msg);
  }
  show(): void {
    this.shown++;
  }
}

test('the output channel never receives escape sequences or control characters', () => {
  const rec = new Recorder();
  const log = cleanLog(rec);
  log.info('run \u001b[2J\u001b]0;pwned\u0007name\r\nline two\u0000');
  log.appendLine('\u202eevil');
  assert.deepEqual(rec.lines, ['run name\nline two', 'evil']);
  // Other methods still reach the channel, bound to it.
  log.show();
  assert.equal(rec.shown, 1);
});
