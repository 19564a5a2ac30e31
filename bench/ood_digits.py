#!/usr/bin/env python
"""End-to-end OOD table on scikit-learn's digits (no downloads).

A small CNN is trained on digits 0-6 (in-distribution). OOD sets: the held-out digits 7-9, uniform
noise images, and ID test digits rotated by 90 degrees. Every detector in assay.ood scores the same
penultimate features / logits; the table reports AUROC and FPR@95%TPR (OOD positive) per OOD set,
and the combinations are fitted on ID calibration rows only.

    python bench/ood_digits.py            # ~20 s on 2 cores; writes bench/results/ood_digits.json
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import torch
from sklearn.datasets import load_digits

from assay import ood

ID_CLASSES = 7


class SmallCNN(torch.nn.Module):
    def __init__(self, classes=ID_CLASSES):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3),
            torch.nn.ReLU(),
            torch.nn.Conv2d(16, 32, 3),
            torch.nn.ReLU(),
            torch.nn.Flatten(),
            torch.nn.Linear(32 * 4 * 4, 64),
            torch.nn.ReLU(),
        )
        self.head = torch.nn.Linear(64, classes)

    def forward(self, x):
        z = self.body(x)
        return z, self.head(z)


def data(seed=0):
    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)[:, None]
    y = digits.target
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(X))
    X, y = X[idx], y[idx]
    is_id = y < ID_CLASSES
    Xi, yi = X[is_id], y[is_id]
    n = len(Xi)
    train, calib, test = slice(0, n // 2), slice(n // 2, 3 * n // 4), slice(3 * n // 4, n)
    ood_sets = {
        "digits 7-9": X[~is_id],
        "noise": rng.uniform(0, 1, size=(400, 1, 8, 8)).astype(np.float32),
        "rotated": np.rot90(Xi[test], 1, axes=(2, 3)).copy(),
    }
    return (Xi[train], yi[train]), (Xi[calib], yi[calib]), (Xi[test], yi[test]), ood_sets


def main():
    torch.manual_seed(0)
    (Xtr, ytr), (Xc, yc), (Xte, yte), ood_sets = data()
    model = SmallCNN()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    xt, yt = torch.from_numpy(Xtr), torch.from_numpy(ytr).long()
    t0 = time.perf_counter()
    for _ in range(60):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xt)[1], yt)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        feats = {
            name: model(torch.from_numpy(a))
            for name, a in [("train", Xtr), ("calib", Xc), ("test", Xte)] + list(ood_sets.items())
        }
    acc = float((feats["test"][1].argmax(1).numpy() == yte).mean())
    print(
        f"SmallCNN on digits 0-{ID_CLASSES - 1}: test accuracy {acc:.3f} (trained in {time.perf_counter() - t0:.1f} s)"
    )

    W, b = model.head.weight.detach().double(), model.head.bias.detach().double()
    z_tr = feats["train"][0].double()
    maha = ood.Mahalanobis().fit(z_tr, torch.from_numpy(ytr))
    rmds = ood.Mahalanobis(relative=True).fit(z_tr, torch.from_numpy(ytr))
    knn = ood.KNN(k=10).fit(z_tr)
    vim = ood.ViM(dim=32).fit(z_tr, head=(W, b))
    grood = ood.GROOD().fit(z_tr, torch.from_numpy(ytr), head=(W, b))
    clip = ood.transforms.react_threshold(z_tr, 90)
    W_dice = ood.transforms.dice_weights(W, z_tr, sparsity=0.7)

    def detectors(z, logits):
        z = z.double()
        s = ood.logit_scores(logits.double())
        out = {k: s[k] for k in ood.SCORES}
        out.update(
            {
                "mahalanobis": maha.score(z),
                "rmds": rmds.score(z),
                "knn": knn.score(z),
                "vim": vim.score(z),
                "grood": grood.score(z),
                "react": ood.transforms.energy(ood.transforms.react(z, clip), W, b),
                "ash-s": ood.transforms.energy(ood.transforms.ash(z, 85, "s"), W, b),
                "scale": ood.transforms.energy(ood.transforms.scale(z, 85), W, b),
                "dice": ood.transforms.energy(z, W_dice, b),
            }
        )
        return {k: v.detach().numpy() for k, v in out.items()}

    scores = {name: detectors(*feats[name]) for name in ["calib", "test"] + list(ood_sets)}
    members = ["energy", "mahalanobis", "knn", "vim"]
    calib = np.column_stack([scores["calib"][m] for m in members])
    for method in ("vote", "fisher", "copula", "center_outward"):
        comb = ood.Combine(method=method, n_reference=600).fit(calib)
        for name in ["test"] + list(ood_sets):
            scores[name][f"combine:{method}"] = comb.score(np.column_stack([scores[name][m] for m in members]))

    rows = []
    names = list(scores["test"])
    header = f"{'detector':22s}" + "".join(f"{s:>22s}" for s in ood_sets)
    print("\nAUROC / FPR@95TPR (OOD positive; higher AUROC, lower FPR is better)")
    print(header)
    for det in names:
        line, row = f"{det:22s}", {"detector": det}
        for s in ood_sets:
            r = ood.metrics.evaluate(scores["test"][det], scores[s][det])
            row[s] = r
            line += f"{r['auroc']:>13.3f} / {r['fpr_at_95_tpr']:.3f}"
        rows.append(row)
        print(line)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "ood_digits.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(
            {"test_accuracy": acc, "id_classes": ID_CLASSES, "combination_members": members, "rows": rows}, f, indent=2
        )
    print(f"\nwrote {os.path.relpath(out)}")


if __name__ == "__main__":
    main()
