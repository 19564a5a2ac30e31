#!/usr/bin/env python
"""assay.ood vs pytorch-ood and plain torch, same tensors, one process (CPU here).

Cases: (1) the six logit scores, assay's one call vs pytorch-ood's separate detectors;
(2) Mahalanobis fit + score; (3) KNN against a 200k x 512 bank (peak memory of the scoring call,
assay's streamed top-k vs pytorch-ood and a plain-torch full distance matrix). Agreement is
checked on every case (pytorch-ood's scores are "higher = more OOD": compared negated).

pytorch-ood needs torchvision, which does not load beside the torch 2.13.0 CPU build the test
suite uses; run this in a separate peer venv (bench/README.md, bench_margins.py section):

    python -m venv .venv-peer && .venv-peer/bin/pip install torch==2.14.1 torchvision==0.29.1 pytorch-ood
    .venv-peer/bin/pip install . && .venv-peer/bin/python bench/bench_ood.py     # writes bench/results/ood.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import torch

from assay import ood


def timed(fn, repeat=3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=100_000, help="logit rows")
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--bank", type=int, default=200_000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "ood.json"))
    args = ap.parse_args(argv)
    import pytorch_ood
    from pytorch_ood import detector as pod

    torch.manual_seed(0)
    cases = []
    logits = torch.randn(args.batch, args.classes) * 3
    _, t_all = timed(lambda: ood.logit_scores(logits))
    ours, t_ours = timed(lambda: ood.logit_scores(logits, which=("msp", "maxlogit", "energy", "entropy")))
    peers = {
        "msp": pod.MaxSoftmax.score,
        "maxlogit": pod.MaxLogit.score,
        "energy": pod.EnergyBased.score,
        "entropy": pod.Entropy.score,
    }

    def theirs_all():
        return {k: f(logits) for k, f in peers.items()}

    theirs, t_theirs = timed(theirs_all)
    diff = max(float((ours[k].double() + theirs[k].double()).abs().max()) for k in peers)  # theirs: higher = OOD
    cases.append(
        {
            "case": f"logit scores {args.batch}x{args.classes}",
            "assay_s": t_ours,
            "peer_s": t_theirs,
            "assay_all_six_s": t_all,
            "note": "the same 4 scores (msp, maxlogit, energy, entropy): assay in "
            "one call, pytorch-ood as 4 detectors; assay_all_six_s adds GEN and the margin",
            "max_abs_diff": diff,
        }
    )

    C, d = 100, args.dim
    y = torch.randint(0, C, (50_000,))
    z = torch.randn(50_000, d) + torch.randn(C, d)[y]
    q = torch.randn(20_000, d) * 1.5
    maha, t_fit = timed(lambda: ood.Mahalanobis().fit(z, y), repeat=1)
    s_ours, t_score = timed(lambda: maha.score(q))
    peer = pod.Mahalanobis(None)
    _, t_pfit = timed(lambda: peer.fit_features(z, y), repeat=1)
    s_theirs, t_pscore = timed(lambda: peer.predict_features(q))
    ratio = -s_ours.double() / s_theirs.double()
    spread = float((ratio.max() - ratio.min()) / ratio.mean())
    cases.append(
        {
            "case": f"Mahalanobis fit 50k x {d}, {C} classes; score 20k",
            "assay_s": t_fit + t_score,
            "peer_s": t_pfit + t_pscore,
            "score_ratio_mean": float(ratio.mean()),
            "score_ratio_rel_spread": spread,
            "note": "pytorch-ood 0.4 does not divide the covariance by N and halves the distance: its scores "
            "are assay's times a constant (the ratio's spread shows they rank rows identically)",
        }
    )

    bank = torch.randn(args.bank, d)
    qk = torch.randn(args.queries, d)
    knn = ood.KNN(k=50).fit(bank)
    base = rss_mb()
    s_ours, t_ours = timed(lambda: knn.score(qk), repeat=1)
    mem_ours = rss_mb() - base
    try:
        peer_knn = pod.KNN(None, k=50)
        peer_knn.fit_features(bank, torch.zeros(len(bank), dtype=torch.long))
        s_theirs, t_theirs = timed(lambda: peer_knn.predict_features(qk), repeat=1)
        peer_note = "pytorch-ood KNN"
        diff = float((s_ours.double() + s_theirs.double()).abs().max())
    except Exception as exc:  # noqa: BLE001  (pytorch-ood's KNN needs faiss)
        t_theirs, diff, peer_note = None, None, f"pytorch-ood KNN unavailable: {type(exc).__name__}: {exc}"

    def plain():
        bn = torch.nn.functional.normalize(bank, dim=1)
        qn = torch.nn.functional.normalize(qk, dim=1)
        sims = qn @ bn.T  # queries x bank, all at once
        return -torch.sqrt(torch.clamp(2 - 2 * torch.topk(sims, 50, dim=1).values[:, -1], min=0))

    base = rss_mb()
    s_plain, t_plain = timed(plain, repeat=1)
    cases.append(
        {
            "case": f"KNN k=50, bank {args.bank} x {d}, {args.queries} queries",
            "assay_s": t_ours,
            "peer_s": t_theirs,
            "plain_torch_s": t_plain,
            "note": peer_note,
            "max_abs_diff_vs_plain": float((s_ours - s_plain).abs().max()),
            "max_abs_diff_vs_peer": diff,
            "assay_peak_growth_mb": mem_ours,
            "plain_peak_growth_mb": rss_mb() - base,
            "plain_matrix_mb": args.queries * args.bank * 4 / 2**20,
        }
    )
    for c in cases:
        print(json.dumps(c))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(
            {
                "torch": torch.__version__,
                "pytorch_ood": pytorch_ood.__version__,
                "threads": torch.get_num_threads(),
                "cases": cases,
            },
            f,
            indent=2,
        )
    print(f"wrote {os.path.relpath(args.out)}")


if __name__ == "__main__":
    main()
