import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { basesFor, datasetsToFetch, defaultCacheDir, offlineAdvice } from '../../src/extension/dataset-plan';
import type { DatasetConfig, ExperimentConfig } from '../../src/shared/experiment';

const run = (dataset: Partial<DatasetConfig>): ExperimentConfig => ({ dataset: { name: 'fashion-mnist', validationFraction: 0.1, ...dataset } }) as ExperimentConfig;

test('default cache: $GRADFLOW_CACHE, else <global storage>/datasets', () => {
  assert.equal(defaultCacheDir('/gs', {}), path.join('/gs', 'datasets'));
  assert.equal(defaultCacheDir('/gs', { GRADFLOW_CACHE: '/c' }), '/c');
  assert.equal(defaultCacheDir('/gs', { GRADFLOW_CACHE: '' }), path.join('/gs', 'datasets'));
});

test('datasets to fetch: real datasets without path or cache, once per (name, cache folder)', () => {
  const cached = new Set([path.join('/c', 'mnist.gfds')]);
  const needs = datasetsToFetch(
    [
      run({}),
      run({}), // same again: once
      run({ name: 'mnist' }), // cached
      run({ name: 'cifar10', path: '/data/cifar' }), // given by path
      run({ name: 'synthetic' }),
      run({ cacheDir: '/mine' }), // the file's own cache folder wins
    ],
    '/c',
    (f) => cached.has(f),
  );
  assert.deepEqual(needs, [
    { name: 'fashion-mnist', cacheDir: '/c' },
    { name: 'fashion-mnist', cacheDir: '/mine' },
  ]);
});

test('bases: the mirror setting as <base>/<name>/, else the official HTTPS locations', () => {
  assert.deepEqual(basesFor('cifar10', 'https://mirror.example/data/'), ['https://mirror.example/data/cifar10/']);
  assert.deepEqual(basesFor('fashion-mnist', ''), ['https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/']);
});

test('the offline message names the URLs, the folder for the standard files, dataset.path and the mirror setting', () => {
  const m = offlineAdvice({ name: 'cifar100', cacheDir: '/c' }, '', 'not reachable (ENOTFOUND)');
  assert.match(m, /CIFAR-100 could not be downloaded \(not reachable \(ENOTFOUND\)\)\. The run was not started\./);
  assert.match(m, /download cifar-100-binary\.tar\.gz from https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar-100-binary\.tar\.gz and put it in \/c\/cifar100 /);
  assert.match(m, /set dataset\.path/);
  assert.match(m, /gradflow\.datasetBaseUrl/);
  const f = offlineAdvice({ name: 'mnist', cacheDir: '/c' }, '', 'x');
  assert.match(f, /t10k-labels-idx1-ubyte\.gz, t10k-images-idx3-ubyte\.gz, train-labels-idx1-ubyte\.gz, train-images-idx3-ubyte\.gz from https:\/\/ossci-datasets\.s3\.amazonaws\.com\/mnist\/ or https:\/\/storage\.googleapis\.com\/cvdf-datasets\/mnist\/ and put them in \/c\/mnist/);
});
