#!/usr/bin/python3
"""Per-width table of the collapse-guard sweep (examples/collapse-guard.gradflow.yaml).

Run: /usr/bin/python3 scripts/reference/guard_sweep_table.py <sweep folder> > docs/pruning/collapse-guard-report/by-width.md
Reads each run's config.json, summary.json and metrics.jsonl (no Gradflow code): per criterion x
dense width x guard, over the seeds: runs, collapsed runs (an error-level collapse-at-mask alert or a
collapse alert on the sparse net), runs the guard changed (its run-log line), mean sparse test
accuracy, mean EGF_2 at initialisation (flow point 0), and the dense twin's mean accuracy.
"""
import json
import os
import sys
from collections import defaultdict

METHODS = ['random', 'magnitude', 'snip', 'grasp', 'synflow']


def main(folder):
    groups = defaultdict(list)
    for name in sorted(os.listdir(folder)):
        d = os.path.join(folder, name)
        if not os.path.isfile(os.path.join(d, 'summary.json')):
            continue
        cfg = json.load(open(os.path.join(d, 'config.json')))
        summ = json.load(open(os.path.join(d, 'summary.json')))
        sp = cfg['sparsity']
        nets = {n['net']: n for n in summ['nets']}
        alerts = summ.get('alerts', [])
        collapsed = any(a['net'] == 'sparse' and ((a['kind'] == 'collapse-at-mask' and a['severity'] == 'error') or a['kind'] == 'collapse') for a in alerts)
        moved = False
        with open(os.path.join(d, 'metrics.jsonl')) as f:
            for line in f:
                if 'collapse guard (egf): at risk' in line:
                    moved = True
        groups[(sp['method'], sp['denseWidth'], sp.get('guard', 'none'))].append(dict(
            acc=nets['sparse']['final']['test']['accuracy'],
            dense=nets['dense']['final']['test']['accuracy'],
            egf2=nets['sparse']['flowPoints'][0]['egf2'],
            collapsed=collapsed, moved=moved))

    def mean(xs):
        xs = [x for x in xs if x is not None and x == x]
        return sum(xs) / len(xs) if xs else float('nan')

    print('| criterion | h_D | guard | runs | collapsed | guard moved weights | sparse test acc. | EGF₂ at init | dense twin acc. |')
    print('|---|---|---|---|---|---|---|---|---|')
    for m in METHODS:
        for hd in sorted({k[1] for k in groups}, reverse=True):
            for g in ['none', 'egf']:
                rs = groups.get((m, hd, g))
                if not rs:
                    continue
                print(f"| {m} | {hd} | {g} | {len(rs)} | {sum(r['collapsed'] for r in rs)} | {sum(r['moved'] for r in rs) if g == 'egf' else '—'} | "
                      f"{100 * mean([r['acc'] for r in rs]):.1f} % | {mean([r['egf2'] for r in rs]):.3g} | {100 * mean([r['dense'] for r in rs]):.1f} % |")
    # Overall: guard vs none, paired by (method, width).
    print()
    tot = {g: [r for k, rs in groups.items() if k[2] == g for r in rs] for g in ['none', 'egf']}
    for g in ['none', 'egf']:
        rs = tot[g]
        print(f"- guard {g}: {len(rs)} runs, {sum(r['collapsed'] for r in rs)} collapsed, mean sparse test accuracy {100 * mean([r['acc'] for r in rs]):.1f} %")


if __name__ == '__main__':
    main(sys.argv[1])
