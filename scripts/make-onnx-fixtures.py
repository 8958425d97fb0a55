#!/usr/bin/env python3
"""Builds the ONNX import fixtures: small QCFS networks trained briefly in PyTorch on our own gesture
frames, exported to ONNX, with PyTorch's logits for a fixed set of inputs. Run by hand (never by the
tests); the outputs are committed under test/fixtures/onnx.

    python3 -m venv /work/venv && /work/venv/bin/pip install torch onnx onnxruntime numpy
    spikestream dataset synth-gestures --out data/gestures --seed 1
    spikestream frames data/gestures --split train --users 1-17 --live-style --with-windows \
        --min-overlap 0.3 --dtype uint8 --out data/g-live-train.ssf --bin-us 100000 --steps 16 --downsample 4
    spikestream frames data/gestures --split test --out data/g-test.ssf --bin-us 100000 --steps 16 --downsample 4
    spikestream frames data/gestures --split train --users 18-23 --out data/g-val.ssf --bin-us 100000 --steps 16 --downsample 4
    spikestream frames recordings/gestures --split test --out data/g-bundled.ssf --bin-us 100000 --steps 16 --downsample 4
    nice -n 10 /work/venv/bin/python scripts/make-onnx-fixtures.py --train data/g-live-train.ssf \
        --test data/g-test.ssf --bundled data/g-bundled.ssf --out test/fixtures/onnx
    /work/venv/bin/python scripts/make-onnx-fixtures.py --refusals --train - --test - --out test/fixtures/onnx

Scoring the export on the windows a live stream answered on (see docs/bring-your-own-model.md):

    node dist/scripts/decision-windows.js live.ndjson recordings/gestures/user30_natural.aedat MODEL_DIR w.f32
    /work/venv/bin/python scripts/make-onnx-fixtures.py --score-windows test/fixtures/onnx/gesture-l3.onnx w.f32 \
        --train - --test - --out -

The QCFS module is the one of Bu et al. / the Dynamic Confidence code: x/λ → floor(x·L + φ)/L →
clamp(0, 1) → ·λ, with a straight-through floor (an autograd.Function, which the exporter inlines as
Floor). The ANN is trained on what the SNN integrates: the mean of the first k frames, k uniform in
1..T, with the k-th step label (live-style files: −1 = no gesture, trained towards the uniform
distribution), as `spikestream train` does.
"""
import argparse, json, os, struct, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_ssf(path):
    with open(path, 'rb') as f:
        buf = f.read()
    assert buf[:8] == b'SSFRAME1', f'{path}: not a frames file'
    (hlen,) = struct.unpack_from('<I', buf, 8)
    h = json.loads(buf[12:12 + hlen].decode('utf8'))
    n, T, H, W = h['n'], h['T'], h['height'], h['width']
    at = 12 + hlen
    labels = np.frombuffer(buf, np.int32, n, at); at += 4 * n
    steps = None
    if h.get('stepLabels'):
        steps = np.frombuffer(buf, np.int32, n * T, at).reshape(n, T); at += 4 * n * T
    dt = np.uint8 if h['dtype'] == 'uint8' else np.float32
    frames = np.frombuffer(buf, dt, n * T * H * W * 2, at).reshape(n, T, H, W, 2)
    if steps is None:
        steps = np.repeat(labels[:, None], T, 1)
    return frames, labels, steps, h


class GradFloor(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.floor()

    @staticmethod
    def backward(ctx, g):
        return g


class QCFS(nn.Module):
    def __init__(self, L, shift=0.5, thresh=4.0):
        super().__init__()
        self.up = nn.Parameter(torch.tensor([thresh]))
        self.L, self.shift = L, shift

    def forward(self, x):
        x = x / self.up
        x = x * self.L
        if self.shift:
            x = x + self.shift
        x = GradFloor.apply(x) / self.L
        x = torch.clamp(x, 0, 1)
        return x * self.up


def build(kind, L, shift, classes):
    q = lambda: QCFS(L, shift)
    if kind == 'small':   # stride-2 conv with PyTorch's symmetric padding; BatchNorm2d and BatchNorm1d
        return nn.Sequential(nn.Conv2d(2, 8, 3, padding=1), nn.BatchNorm2d(8), q(), nn.AvgPool2d(2),
                             nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), q(), nn.Flatten(),
                             nn.Linear(16 * 8 * 8, 32), nn.BatchNorm1d(32), q(), nn.Linear(32, classes))
    if kind == 'deep':    # no BatchNorm, a 5×5 conv, global average pooling
        return nn.Sequential(nn.Conv2d(2, 16, 5, padding=2), q(), nn.AvgPool2d(2), nn.Conv2d(16, 32, 3, padding=1), q(),
                             nn.AvgPool2d(2), nn.Conv2d(32, 32, 3, padding=1), q(), nn.AvgPool2d(2),
                             nn.Conv2d(32, 48, 3, padding=1), q(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(48, classes))
    # 'gesture': the bundled model's shape, narrower, BatchNorm on the convolutions (folded on export)
    return nn.Sequential(nn.Conv2d(2, 16, 3, padding=1), nn.BatchNorm2d(16), q(), nn.AvgPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), q(), nn.AvgPool2d(2),
                         nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), q(), nn.AvgPool2d(2), nn.Flatten(),
                         nn.Linear(32 * 4 * 4, 64), q(), nn.Linear(64, classes))


def prefix_means(frames, ks):
    """Mean of the first k frames per sample, NCHW float32 (the division in float32, as spikestream's)."""
    cs = np.cumsum(frames.astype(np.float32), axis=1)
    x = cs[np.arange(len(ks)), ks - 1] / ks[:, None, None, None].astype(np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def init_lambdas(net, x):
    """λ of each QCFS layer = the 99.5 % quantile of its positive inputs, layer by layer."""
    for m in net:
        if isinstance(m, QCFS):
            seen = []
            h = m.register_forward_pre_hook(lambda mod, inp: seen.append(inp[0].detach()))
            with torch.no_grad():
                net(x)
            h.remove()
            pos = seen[0][seen[0] > 0]
            if pos.numel():
                m.up.data.fill_(float(torch.quantile(pos.flatten()[:100000], 0.995)))


def train(net, frames, steps, epochs, seed, classes, log):
    g = np.random.default_rng(seed)
    n, T = steps.shape
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * ((n + 63) // 64))
    net.train()
    init_lambdas(net, torch.from_numpy(prefix_means(frames[:256], np.full(min(256, n), T))))
    for ep in range(epochs):
        order, t0, tot, right, seen, labelled = g.permutation(n), time.time(), 0.0, 0, 0, 0
        for b in range(0, n, 64):
            idx = np.sort(order[b:b + 64])
            ks = g.integers(1, T + 1, len(idx))
            x = torch.from_numpy(prefix_means(frames[idx], ks))
            y = torch.from_numpy(steps[idx, ks - 1].astype(np.int64))
            target = torch.full((len(idx), classes), 1.0 / classes)
            known = y >= 0
            target[known] = F.one_hot(y[known], classes).float()
            out = net(x)
            loss = -(target * F.log_softmax(out, 1)).sum(1).mean()
            opt.zero_grad(); loss.backward(); opt.step(); sched.step()
            tot += loss.item() * len(idx); seen += len(idx)
            right += (out.argmax(1)[known] == y[known]).sum().item(); labelled += int(known.sum())
        log(f'  epoch {ep + 1}/{epochs}: loss {tot / seen:.3f}, accuracy on labelled prefixes {right / max(1, labelled):.3f}, {seen / (time.time() - t0):.0f} samples/s')
    net.eval()


def accuracy(net, frames, labels):
    with torch.no_grad():
        out = net(torch.from_numpy(prefix_means(frames, np.full(len(labels), frames.shape[1]))))
    return float((out.argmax(1).numpy() == labels).mean())


NETS = [  # name, kind, L, shift, epochs
    ('small-l4-bn', 'small', 4, 0.5, 3),
    ('deep-l8-floor', 'deep', 8, 0.0, 3),
    ('gesture-l3', 'gesture', 3, 0.5, 8),
]


class Residual(nn.Module):
    def __init__(self, L):
        super().__init__()
        self.conv, self.act = nn.Conv2d(4, 4, 3, padding=1), QCFS(L)

    def forward(self, x):
        return x + self.act(self.conv(x))


class ViewFlatten(nn.Module):
    def forward(self, x):
        return x.view(x.size(0), -1)


def export_refusals(out):
    """Tiny untrained networks, each with one construct spikestream refuses, exported as PyTorch writes them."""
    head = lambda: [nn.Conv2d(2, 4, 3, padding=1), QCFS(3)]
    nets = {
        'refuse-maxpool': nn.Sequential(*head(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3)),
        'refuse-residual': nn.Sequential(*head(), Residual(3), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3)),
        'refuse-relu': nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3)),
        'refuse-view': nn.Sequential(*head(), nn.AvgPool2d(2), ViewFlatten(), nn.Linear(4 * 4 * 4, 3)),
    }
    for name, net in nets.items():
        torch.manual_seed(1)
        net.eval()
        torch.onnx.export(net, torch.zeros(1, 2, 8, 8), os.path.join(out, f'{name}.onnx'), dynamo=False, opset_version=17,
                          input_names=['events'], output_names=['logits'], dynamic_axes={'events': {0: 'batch'}})
        print(f'{name}.onnx', flush=True)


def score_windows(onnx_file, windows):
    """The exported network (ONNX Runtime) on the inputs of scripts/decision-windows.ts: its accuracy on the
    windows the live stream answered on, beside the SNN's answers there."""
    import onnxruntime as ort
    meta = json.load(open(windows.removesuffix('.f32') + '.json'))
    x = np.fromfile(windows, '<f4').reshape(meta['n'], *meta['shape'])
    out = ort.InferenceSession(onnx_file).run(None, {'events': x})[0]
    labels, snn = np.array(meta['labels']), np.array(meta['predicted'])
    print(json.dumps({'windows': int(meta['n']), 'exportAccuracy': float((out.argmax(1) == labels).mean()),
                      'snnAccuracy': float((snn == labels).mean()), 'agreement': float((out.argmax(1) == snn).mean())}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--train', required=True); ap.add_argument('--test', required=True)
    ap.add_argument('--bundled', help='frames of the bundled recording\'s label windows (PyTorch accuracy there)')
    ap.add_argument('--out', required=True); ap.add_argument('--inputs', type=int, default=48)
    ap.add_argument('--only', help='comma-separated net names')
    ap.add_argument('--refusals', action='store_true', help='only export the tiny networks with refused constructs')
    ap.add_argument('--score-windows', nargs=2, metavar=('ONNX', 'WINDOWS_F32'), help='score an export on decision windows and exit')
    a = ap.parse_args()
    if a.score_windows:
        return score_windows(*a.score_windows)
    torch.manual_seed(1); torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    if a.refusals:
        return export_refusals(a.out)
    tr, _, trsteps, h = read_ssf(a.train)
    te, telabels, _, _ = read_ssf(a.test)
    classes = len(h['classes'])
    # The fixed inputs: test samples, the mean of their first k frames for k cycling through 1..T,
    # stored as the integer sums (uint16) and k, so PyTorch and spikestream divide the same float32s.
    T = te.shape[1]
    pick = np.random.default_rng(7).choice(len(te), a.inputs, replace=False)
    ks = (np.arange(a.inputs) % T) + 1
    sums = np.cumsum(te[pick].astype(np.int64), axis=1)[np.arange(a.inputs), ks - 1].transpose(0, 3, 1, 2)
    assert sums.max() < 65536
    sums.astype('<u2').tofile(os.path.join(a.out, 'inputs.u16'))
    x = torch.from_numpy(sums.astype(np.float32) / ks[:, None, None, None].astype(np.float32))
    manifest = {'torch': torch.__version__, 'inputs': {'file': 'inputs.u16', 'n': a.inputs, 'shape': list(sums.shape[1:]), 'k': ks.tolist(),
                'labels': telabels[pick].tolist(), 'about': 'uint16 sums of the first k frames (N×C×H×W); input = float32(sum) / k'},
                'classes': h['classes'], 'models': []}
    mpath = os.path.join(a.out, 'manifest.json')
    if a.only and os.path.exists(mpath):
        manifest['models'] = [m for m in json.load(open(mpath))['models'] if m['name'] not in a.only.split(',')]
    for name, kind, L, shift, epochs in NETS:
        if a.only and name not in a.only.split(','):
            continue
        print(f'{name}: L = {L}, shift {shift}, {epochs} epochs on {len(tr)} samples', flush=True)
        torch.manual_seed(1)
        net = build(kind, L, shift, classes)
        train(net, tr, trsteps, epochs, 1, classes, lambda s: print(s, flush=True))
        torch.onnx.export(net, x[:1], os.path.join(a.out, f'{name}.onnx'), dynamo=False, opset_version=17,
                          input_names=['events'], output_names=['logits'], dynamic_axes={'events': {0: 'batch'}})
        with torch.no_grad():
            net(x).numpy().astype('<f4').tofile(os.path.join(a.out, f'{name}.logits.f32'))
        entry = {'name': name, 'onnx': f'{name}.onnx', 'logits': f'{name}.logits.f32', 'levels': L, 'shift': shift,
                 'testAccuracy': accuracy(net, te, telabels), 'testSamples': int(len(te))}
        if a.bundled:
            bu, bulabels, _, _ = read_ssf(a.bundled)
            entry['bundledAccuracy'] = accuracy(net, bu, bulabels); entry['bundledWindows'] = int(len(bu))
        print(f'  test accuracy (ANN on the mean of T frames) {entry["testAccuracy"]:.4f}', flush=True)
        manifest['models'].append(entry)
    manifest['models'].sort(key=lambda m: [n[0] for n in NETS].index(m['name']))
    json.dump(manifest, open(mpath, 'w'), indent=2)


if __name__ == '__main__':
    main()
