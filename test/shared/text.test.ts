import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { boundedSlug, shownText, stripControl } from '../../src/shared/text';
import { planSweep } from '../../src/runs/sweep';
import { parseExperiment } from '../../src/config/parse';
import { tempFolder } from '../tmp';

const ESC = '\u001b';
const BEL = '\u0007';

test('stripControl removes whole escape sequences (CSI, OSC, 8-bit forms) and control characters', () => {
  assert.equal(stripControl(`a${ESC}[2Jb`), 'ab'); // clear screen
  assert.equal(stripControl(`a${ESC}]0;pwned${BEL}b`), 'ab'); // retitle, BEL-terminated
  assert.equal(stripControl(`a${ESC}]0;pwned${ESC}\\b`), 'ab'); // retitle, ST-terminated
  assert.equal(stripControl(`a${ESC}[38;5;196mred${ESC}[0m`), 'ared');
  assert.equal(stripControl('a\u009b2Jb'), 'ab'); // 8-bit CSI
  assert.equal(stripControl(`a${ESC}c`), 'a'); // full reset (ESC c)
  assert.equal(stripControl('over\rwrite\u0000\u0008\u007f'), 'overwrite');
  assert.equal(stripControl('bidi \u202eevil\u202c'), 'bidi evil');
  assert.equal(stripControl('one\ntwo\tthree'), 'one two three');
  assert.equal(stripControl('one\ntwo', { keepNewlines: true }), 'one\ntwo');
  assert.equal(stripControl('plain: µ, ∑, 日本'), 'plain: µ, ∑, 日本');
});

test('shownText makes control characters visible and cuts long text', () => {
  assert.equal(shownText(`x${ESC}[2J\n`), 'x\\x1b[2J\\n');
  assert.equal(shownText('a'.repeat(100), 10), 'aaaaaaaaaa… (100 characters)');
});

test('boundedSlug: bounded in bytes, distinct for long names sharing a prefix', () => {
  const a = `${'x'.repeat(300)}a`;
  const b = `${'x'.repeat(300)}b`;
  assert.ok(boundedSlug(a, 120, 'sweep').length <= 120);
  assert.notEqual(boundedSlug(a, 120, 'sweep'), boundedSlug(b, 120, 'sweep'));
  assert.equal(boundedSlug('FMNIST BN sweep', 120, 'sweep'), 'fmnist-bn-sweep');
  assert.equal(boundedSlug('日本', 120, 'sweep'), 'sweep');
});

test('a sweep with a 300-character name gets a folder that can be created (no ENAMETOOLONG)', () => {
  const dir = tempFolder('gradflow-slug-');
  try {
    const name = 'a-very-long-sweep-name-'.repeat(14).slice(0, 300);
    const config = parseExperiment('dataset:\n  name: synthetic\n', path.join(dir, 'e.gradflow.yaml')).config;
    assert.ok(config);
    const plan = planSweep(name, [{ id: 'abc', config, point: {} }], dir);
    assert.ok(Buffer.byteLength(path.basename(plan.dir)) <= 255);
    fs.mkdirSync(plan.dir, { recursive: true });
    assert.ok(fs.statSync(plan.dir).isDirectory());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
