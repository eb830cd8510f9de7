#!/usr/bin/env python3
"""Does EGF at initialisation rank the pruning criteria the way final accuracy does?

Reads the committed criteria table of the pruning-criteria example (one row per criterion x scope,
means over 5 seeds) and prints SciPy's Kendall tau-b between each EGF column and the sparse net's
final test accuracy: over all 10 rows, without the collapsed magnitude/global row, and per scope.
Quoted in docs/pruning.md ("Its result"). Run: /usr/bin/python3 scripts/reference/criteria_ranking.py
"""
import csv
import os

from scipy.stats import kendalltau

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.path.join(HERE, '..', '..', 'docs', 'pruning', 'criteria-report', 'criteria-fashion-mnist.csv')

rows = list(csv.DictReader(open(TABLE, encoding='utf-8')))
subsets = {
    'all 10 rows': rows,
    'without magnitude/global (collapsed)': [r for r in rows if not (r['method'] == 'magnitude' and r['scope'] == 'global')],
    'layerwise (5 rows)': [r for r in rows if r['scope'] == 'layerwise'],
    'global (5 rows)': [r for r in rows if r['scope'] == 'global'],
}
for key in ['egf1_init', 'egf2_init', 'egf1_avg', 'egf2_avg']:
    for name, rs in subsets.items():
        t = kendalltau([float(r[key]) for r in rs], [float(r['acc_sparse']) for r in rs])
        print(f'{key:9s} vs acc_sparse, {name:38s}: tau = {t.statistic:+.3f}, p = {t.pvalue:.3f}')
