#!/usr/bin/env python3
"""Kernel shapes of the conv architectures the experiment file describes, counted on PyTorch modules.

Expected values for test/config/architecture.test.ts (the config package's `convKernelShapes`,
used for memory estimates and SC-SDC checks). Independent of Gradflow's code:
- wide_resnet50_2 is torchvision's own model, with the 32x32 stem of the issue (3x3 stride-1 conv,
  no max-pool) and a 10-class classifier;
- WRN-d-k (basic blocks) is the reference structure of Zagoruyko & Komodakis 2016 (pre-activation
  blocks, 1x1 projection where the shape changes), written here with torch.nn;
- the simple CNN (the paper's talk): 3x3 convs, optional 1x1 projection where channels change.
Only conv and linear *weights* are counted (biases and BatchNorm are neither masked nor counted).

Run: /usr/bin/python3 scripts/reference/arch_weight_counts.py > test/fixtures/config/arch-weight-counts.json
"""
import json

import torch.nn as nn
import torchvision


def kernels(model):
    out = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            out.append([m.kernel_size[0], m.in_channels, m.out_channels])
        elif isinstance(m, nn.Linear):
            out.append([1, m.in_features, m.out_features])
    return out


class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride, 0, bias=False) if (stride != 1 or cin != cout) else None


def wrn(depth, k, in_ch, classes, stem=16, widths=None):
    n = (depth - 4) // 6
    widths = widths or [16 * k, 32 * k, 64 * k]
    layers = [nn.Conv2d(in_ch, stem, 3, 1, 1, bias=False)]
    cin = stem
    for g, w in enumerate(widths):
        for b in range(n):
            layers.append(Basic(cin, w, (1 if g == 0 else 2) if b == 0 else 1))
            cin = w
    layers.append(nn.Linear(cin, classes))
    return nn.Sequential(*layers)


def wide_resnet50_2_32(classes, in_ch=3):
    m = torchvision.models.wide_resnet50_2(num_classes=classes)
    m.conv1 = nn.Conv2d(in_ch, 64, 3, 1, 1, bias=False)
    m.maxpool = nn.Identity()
    return m


def simple_cnn(channels, in_ch, classes, skip):
    layers = []
    cin = in_ch
    for c in channels:
        layers.append(nn.Conv2d(cin, c, 3, 1, 1))
        if skip and cin != c:
            layers.append(nn.Conv2d(cin, c, 1, 1, 0))
        cin = c
    layers.append(nn.Linear(cin, classes))
    return nn.Sequential(*layers)


def rounded(cs, rho):
    return [int(round(c * rho)) for c in cs]


cases = {
    "cnn-default-fmnist": kernels(simple_cnn([32, 64, 64, 128, 128], 1, 10, False)),
    "cnn-default-fmnist-skip": kernels(simple_cnn([32, 64, 64, 128, 128], 1, 10, True)),
    "cnn-default-fmnist-skip-twin-0.25": kernels(simple_cnn(rounded([32, 64, 64, 128, 128], 0.25), 1, 10, True)),
    "wrn-16-4-cifar10": kernels(wrn(16, 4, 3, 10)),
    "wrn-16-4-cifar10-twin-0.5": kernels(wrn(16, 4, 3, 10, stem=8, widths=[32, 64, 128])),
    "wrn-10-1-cifar10": kernels(wrn(10, 1, 3, 10)),
    "wrn-28-10-cifar100": kernels(wrn(28, 10, 3, 100)),
    "wrn-50-2-bottleneck-cifar10": kernels(wide_resnet50_2_32(10)),
}
print(json.dumps({name: {"kernels": ks, "weights": sum(k * k * a * b for k, a, b in ks)} for name, ks in cases.items()}, indent=1))
