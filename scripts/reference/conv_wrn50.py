#!/usr/bin/python3
"""Weight layers of torchvision's wide_resnet50_2 adapted to 32x32 inputs, for the WRN-50-2 test.

Run: /usr/bin/python3 scripts/reference/conv_wrn50.py > test/fixtures/conv/wrn50_2_layers.json
(Debian python3-torch 1.13 with torchvision). The 32x32 adaptation Gradflow documents
(docs/conv-nets.md): the 7x7 stride-2 stem becomes a 3x3 stride-1 conv and the stem max-pool is
dropped; 10 classes. Lists every conv and linear kernel in module order with its torchvision name,
shape in Gradflow's layout ([k, k, c_in, c_out] / [in, out]) and stride, plus parameter totals.
"""
import json
import sys
import torch
import torchvision

net = torchvision.models.wide_resnet50_2(num_classes=10)
net.conv1 = torch.nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
net.maxpool = torch.nn.Identity()
layers = []
for name, m in net.named_modules():
    if isinstance(m, torch.nn.Conv2d):
        co, ci, kh, kw = m.weight.shape
        layers.append({'name': name, 'shape': [kh, kw, ci, co], 'stride': m.stride[0], 'weights': m.weight.numel()})
    elif isinstance(m, torch.nn.Linear):
        o, i = m.weight.shape
        layers.append({'name': name, 'shape': [i, o], 'stride': 1, 'weights': m.weight.numel()})
bn = sum(p.numel() for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d) for p in m.parameters())
total = sum(p.numel() for p in net.parameters())
x = torch.zeros(2, 3, 32, 32)
out = net(x)
json.dump({'torchvision': torchvision.__version__, 'layers': layers, 'kernel_weights': sum(l['weights'] for l in layers),
           'bn_params': bn, 'total_params': total, 'output_shape': list(out.shape)}, sys.stdout, indent=1)
sys.stdout.write('\n')
