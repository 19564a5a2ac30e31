#!/usr/bin/env python
"""Side-by-side benchmark of interventional TreeSHAP: assay vs shap vs woodelf.

All libraries run in one process on the same synthetic regression data (20 features,
float32-representable) and the same fitted models. For every (model, size) assay is timed
once (table build = constructor, then shap_values) and each peer is timed once on the same
foreground/background rows; the SHAP values are compared element-wise.

    python bench/bench_treeshap.py --quick            # smoke run, ~1 minute
    python bench/bench_treeshap.py                    # full default run (10-20+ minutes)
    python bench/bench_treeshap.py --models xgb6,lgbm --sizes 1k,10k --peers woodelf

See bench/README.md for what each column means.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import time
import traceback
import warnings
from importlib import metadata

import numpy as np

N_FEATURES = 20
SEED = 20240601
N_TRAIN = 20_000

# name -> (description, factory)
MODEL_SPECS = {
    "xgb6": "XGBRegressor(n_estimators=100, max_depth=6)",
    "xgb8": "XGBRegressor(n_estimators=100, max_depth=8)",
    "lgbm": "LGBMRegressor(n_estimators=100, num_leaves=31)",
    "rf8": "RandomForestRegressor(n_estimators=100, max_depth=8)",
}

# named sizes -> (foreground rows, background rows)
NAMED_SIZES = {"1k": (1_000, 1_000), "10k": (10_000, 10_000), "100k": (100_000, 10_000)}
QUICK_SIZES = "200x100,1000x300"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------- helpers


def repo_relative(path: str) -> str:
    """A path as results may record it, with no machine's directories: relative to the repository when
    inside it, from site-packages for an installed file, else the file's name."""
    path = os.path.abspath(path)
    if os.path.commonpath([path, REPO]) == REPO:
        return os.path.relpath(path, REPO)
    parts = path.split(os.sep)
    if "site-packages" in parts:
        return "/".join(parts[len(parts) - 1 - parts[::-1].index("site-packages") :])
    return os.path.basename(path)


def shown(path: str) -> str:
    """A path as printed (logs are committed too): relative to the repository when inside it, else as given."""
    inside = os.path.commonpath([os.path.abspath(path), REPO]) == REPO
    return os.path.relpath(os.path.abspath(path), REPO) if inside else path


def parse_size(tok: str):
    tok = tok.strip().lower()
    if tok in NAMED_SIZES:
        return tok, NAMED_SIZES[tok]
    if "x" in tok:
        a, b = tok.split("x", 1)
        return tok, (_count(a), _count(b))
    raise argparse.ArgumentTypeError(f"bad size {tok!r}: use one of {list(NAMED_SIZES)} or FGxBG, e.g. 2000x500")


def _count(s: str) -> int:
    s = s.strip().lower()
    mult = 1
    if s.endswith("k"):
        mult, s = 1_000, s[:-1]
    elif s.endswith("m"):
        mult, s = 1_000_000, s[:-1]
    return int(float(s) * mult)


def make_data(n_rows: int, seed: int = SEED):
    """Synthetic regression data; every value is exactly representable in float32."""
    rng = np.random.default_rng(seed)
    X = np.empty((n_rows, N_FEATURES), dtype=np.float32)
    X[:, :8] = rng.normal(size=(n_rows, 8))
    X[:, 8:14] = rng.uniform(-2, 2, size=(n_rows, 6))
    X[:, 14:17] = rng.integers(0, 5, size=(n_rows, 3))  # small-cardinality ints
    X[:, 17:] = np.round(rng.normal(size=(n_rows, 3)), 1)  # values with many ties
    x = X.astype(np.float64)
    y = (
        2.0 * np.sin(x[:, 0])
        + x[:, 1] * x[:, 2]
        + np.abs(x[:, 3])
        + np.exp(0.5 * x[:, 4])
        + np.where(x[:, 5] > 0, x[:, 6], -x[:, 7])
        + 0.5 * x[:, 8] ** 2
        + 0.3 * x[:, 9] * x[:, 14]
        + np.cos(x[:, 10] * x[:, 11])
        + 0.2 * x[:, 15]
        - 0.1 * x[:, 17]
        + 0.1 * x[:, 12:].sum(axis=1)
        + 0.3 * rng.normal(size=n_rows)
    )
    return X, y.astype(np.float32)


def build_model(name: str, X, y):
    if name == "xgb6":
        import xgboost

        m = xgboost.XGBRegressor(n_estimators=100, max_depth=6)
    elif name == "xgb8":
        import xgboost

        m = xgboost.XGBRegressor(n_estimators=100, max_depth=8)
    elif name == "lgbm":
        import lightgbm

        m = lightgbm.LGBMRegressor(n_estimators=100, num_leaves=31, verbose=-1)
    elif name == "rf8":
        from sklearn.ensemble import RandomForestRegressor

        m = RandomForestRegressor(n_estimators=100, max_depth=8, n_jobs=-1, random_state=0)
    else:
        raise ValueError(name)
    m.fit(X, y)
    return m


def raw_predict(model, X):
    """The model's own raw (margin) prediction, as float64."""
    mod = type(model).__module__
    if mod.startswith("xgboost"):
        return np.asarray(model.predict(X, output_margin=True), dtype=np.float64)
    if mod.startswith("lightgbm"):
        return np.asarray(model.predict(X, raw_score=True), dtype=np.float64)
    return np.asarray(model.predict(X), dtype=np.float64)


def _proc_kb(path, key):
    """A "Key: N kB" field of a /proc file (/proc/self/status, /proc/meminfo), or None."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Rss:
    """Peak-RSS bookkeeping.

    ru_maxrss is the process high-water mark. Where Linux allows it (/proc/self/clear_refs '5'),
    the mark is reset before each timed phase so that ru_maxrss read after the phase is that
    phase's own peak; the process-wide peak is then tracked as the max over all readings.
    """

    def __init__(self):
        self.process_peak_mb = 0.0
        self.can_reset = self._reset()

    @staticmethod
    def _reset():
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    @staticmethod
    def current_mb():
        kb = _proc_kb("/proc/self/status", "VmRSS")
        return None if kb is None else kb / 1024.0

    def begin(self):
        gc.collect()
        if self.can_reset:
            self._reset()
        return self.current_mb()

    def end(self):
        mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB
        self.process_peak_mb = max(self.process_peak_mb, mb)
        return mb


class PeerTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise PeerTimeout()


def run_with_timeout(fn, seconds):
    if not seconds or seconds <= 0:
        return fn()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def versions():
    out = {}
    for dist in [
        "assay",
        "shap",
        "woodelf-explainer",
        "xgboost",
        "xgboost-cpu",
        "lightgbm",
        "scikit-learn",
        "numpy",
        "pandas",
        "treelite",
        "numba",
        "scipy",
        "cupy-cuda12x",
        "cupy-cuda13x",
    ]:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    try:
        import assay

        out["assay.__version__"] = assay.__version__
        out["assay.__file__"] = repo_relative(assay.__file__)  # python/... (source tree) or site-packages/...
    except Exception:  # noqa: BLE001
        pass
    return out


def machine_info():
    info = {
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "mem_total_gb": round((_proc_kb("/proc/meminfo", "MemTotal") or 0) / 1024**2, 1),
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:  # the GPU, where there is one (--device cuda runs)
        gpus = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout.strip()
        info["gpus"] = gpus.splitlines() if gpus else None
    except Exception:  # noqa: BLE001
        info["gpus"] = None
    try:
        info["git_commit"] = (
            subprocess.run(
                ["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or None
        )
        dirty = subprocess.run(
            ["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        info["git_dirty"] = bool(dirty)
    except Exception:  # noqa: BLE001
        pass
    return info


# --------------------------------------------------------------------------- libraries


def run_assay(model, X, bg, algorithm, n_jobs, device="cpu"):
    import assay

    t0 = time.perf_counter()
    ex = assay.TreeExplainer(model, data=bg, algorithm=algorithm, n_jobs=n_jobs, device=device)
    t1 = time.perf_counter()
    phi = ex.shap_values(X)
    t2 = time.perf_counter()
    return ex, np.asarray(phi), t1 - t0, t2 - t1


from assay.cli.peers import run_shap, run_woodelf, run_woodelf_gpu  # noqa: E402  (the calls of `assay bench`)


def run_assay_cpu(model, X, bg, columns=None):
    """assay's CPU kernel as a "peer" of its CUDA kernel (--device cuda --peers assay-cpu)."""
    _, phi, build_s, call_s = run_assay(model, X, bg, "pattern", -1, device="cpu")
    return phi, build_s, call_s


PEERS = {"shap": run_shap, "woodelf": run_woodelf, "woodelf-gpu": run_woodelf_gpu, "assay-cpu": run_assay_cpu}


def warm_up(model, X, columns, peers, algorithm, n_jobs, device="cpu"):
    """Tiny calls so import / first-call / JIT costs are not counted in the timed runs."""
    small_x, small_bg = X[:8], X[8:24]
    out = {}
    for lib in ["assay"] + list(peers):
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if lib == "assay":
                    run_assay(model, small_x, small_bg, algorithm, n_jobs, device)
                elif lib == "shap":
                    run_shap(model, small_x, small_bg)
                else:
                    PEERS[lib](model, small_x, small_bg, columns)
            out[lib] = {"ok": True, "s": time.perf_counter() - t0}
        except Exception as e:  # noqa: BLE001
            out[lib] = {"ok": False, "s": time.perf_counter() - t0, "error": f"{type(e).__name__}: {e}"}
    return out


# --------------------------------------------------------------------------- main loop


def compare(phi_a, phi_p):
    phi_p = np.asarray(phi_p, dtype=np.float64)
    if phi_p.shape != phi_a.shape:
        if phi_p.size == phi_a.size:
            phi_p = phi_p.reshape(phi_a.shape)
        else:
            return None, f"shape mismatch: assay {phi_a.shape} vs peer {phi_p.shape}"
    return float(np.max(np.abs(phi_a - phi_p))), None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--sizes",
        default=None,
        help="comma list of sizes: 1k (1k fg x 1k bg), 10k (10k x 10k), 100k (100k fg x 10k bg) "
        "or FGxBG such as 2000x500 (default 1k,10k,100k)",
    )
    ap.add_argument("--models", default="xgb6,xgb8,lgbm,rf8", help=f"subset of {','.join(MODEL_SPECS)}")
    ap.add_argument(
        "--peers", default="shap,woodelf", help="comma list from: shap,woodelf,woodelf-gpu,assay-cpu (or 'none')"
    )
    ap.add_argument(
        "--shap-sizes", default=None, help="sizes at which shap is run (default 1k; with --quick all quick sizes)"
    )
    ap.add_argument(
        "--shap-rows",
        type=int,
        default=None,
        help="foreground rows given to shap (default 1000; 100 with --quick); assay is "
        "re-run on the same rows for that comparison when this is below the size's fg",
    )
    ap.add_argument("--woodelf-sizes", default=None, help="sizes at which woodelf is run (default: all)")
    ap.add_argument("--algorithm", default="pattern", choices=["pattern", "pairwise"], help="assay algorithm")
    ap.add_argument(
        "--device",
        default="cpu",
        choices=["cpu", "cuda", "auto"],
        help="assay device (cuda: compare with --peers assay-cpu,woodelf-gpu)",
    )
    ap.add_argument("--n-jobs", type=int, default=-1, help="assay n_jobs")
    ap.add_argument(
        "--peer-timeout",
        type=float,
        default=1800.0,
        help="seconds before a peer call is abandoned (SIGALRM; 0 = never)",
    )
    ap.add_argument("--quick", action="store_true", help=f"smoke run: sizes {QUICK_SIZES}, shap on 100 rows")
    ap.add_argument(
        "--out",
        default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "treeshap.json"),
        help="JSON output path",
    )
    args = ap.parse_args(argv)

    sizes_arg = args.sizes or (QUICK_SIZES if args.quick else "1k,10k,100k")
    sizes = [parse_size(t) for t in sizes_arg.split(",") if t.strip()]
    size_names = [s[0] for s in sizes]
    shap_sizes = set((args.shap_sizes or (",".join(size_names) if args.quick else "1k")).split(","))
    woodelf_sizes = set(args.woodelf_sizes.split(",")) if args.woodelf_sizes else set(size_names)
    shap_rows = args.shap_rows if args.shap_rows is not None else (100 if args.quick else 1000)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in MODEL_SPECS:
            ap.error(f"unknown model {m!r}; choose from {list(MODEL_SPECS)}")
    peers = [] if args.peers.strip() in ("", "none") else [p.strip() for p in args.peers.split(",")]
    for p in peers:
        if p not in PEERS:
            ap.error(f"unknown peer {p!r}; choose from {list(PEERS)}")

    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    # Import everything up front (import time is not part of any measurement).
    import assay  # noqa: F401

    for p in peers:
        try:
            __import__({"shap": "shap", "assay-cpu": "assay"}.get(p, "woodelf"))
        except Exception as e:  # noqa: BLE001
            print(f"[warn] cannot import {p}: {e}", flush=True)

    max_fg = max(s[1][0] for s in sizes)
    max_bg = max(s[1][1] for s in sizes)
    X_all, y_all = make_data(N_TRAIN + max_fg + max_bg)
    X_train, y_train = X_all[:N_TRAIN], y_all[:N_TRAIN]
    X_fg_pool = X_all[N_TRAIN : N_TRAIN + max_fg]
    X_bg_pool = X_all[N_TRAIN + max_fg :]
    columns = [f"f{i}" for i in range(N_FEATURES)]

    rss = Rss()
    result = {
        "config": {
            "sizes": {n: {"fg": fg, "bg": bg} for n, (fg, bg) in sizes},
            "models": {m: MODEL_SPECS[m] for m in models},
            "peers": peers,
            "shap_sizes": sorted(shap_sizes),
            "shap_rows": shap_rows,
            "woodelf_sizes": sorted(woodelf_sizes),
            "assay_algorithm": args.algorithm,
            "assay_device": args.device,
            "assay_n_jobs": args.n_jobs,
            "peer_timeout_s": args.peer_timeout,
            "seed": SEED,
            "n_train": N_TRAIN,
            "n_features": N_FEATURES,
            "quick": args.quick,
            "rss_per_phase_reset": rss.can_reset,
        },
        "machine": machine_info(),
        "versions": versions(),
        "models": {},
        "cases": [],
        "self_checks": [],
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)) or ".", exist_ok=True)

    def save():
        result["process_peak_rss_mb"] = rss.process_peak_mb
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(result, f, indent=1, default=_json_default)
        os.replace(tmp, args.out)

    print(f"# machine: {result['machine']}", flush=True)
    print(f"# versions: { {k: v for k, v in result['versions'].items() if not k.startswith('assay.__f')} }", flush=True)

    for mname in models:
        t0 = time.perf_counter()
        model = build_model(mname, X_train, y_train)
        fit_s = time.perf_counter() - t0
        wu = warm_up(model, X_fg_pool, columns, peers, args.algorithm, args.n_jobs, args.device)
        result["models"][mname] = {"spec": MODEL_SPECS[mname], "fit_s": fit_s, "warmup": wu}
        print(
            f"\n## {mname}: {MODEL_SPECS[mname]} (fit {fit_s:.1f}s; warm-up "
            + ", ".join(f"{k} {'ok' if v['ok'] else 'FAILED'} {v['s']:.2f}s" for k, v in wu.items())
            + ")",
            flush=True,
        )

        for sname, (n_fg, n_bg) in sizes:
            X = X_fg_pool[:n_fg]
            bg = X_bg_pool[:n_bg]
            pred = raw_predict(model, X)
            scale = float(np.max(np.abs(pred)))

            # ---- assay on the full foreground
            rss_before = rss.begin()
            try:
                ex, phi, build_s, shap_s = run_assay(model, X, bg, args.algorithm, args.n_jobs, args.device)
                assay_err = None
            except Exception as e:  # noqa: BLE001
                ex = phi = None
                build_s = shap_s = None
                assay_err = f"{type(e).__name__}: {e}"
                traceback.print_exc()
            assay_rss = rss.end()
            assay_ref = {
                "n_fg": n_fg,
                "build_s": build_s,
                "shap_values_s": shap_s,
                "total_s": None if build_s is None else build_s + shap_s,
                "rss_before_mb": rss_before,
                "rss_peak_mb": assay_rss,
            }

            # ---- self-check: efficiency
            sc = {
                "model": mname,
                "size": sname,
                "n_fg": n_fg,
                "n_bg": n_bg,
                "scale": scale,
                "assay": assay_ref,
                "error": assay_err,
            }
            if phi is not None:
                total = phi.sum(axis=1) + ex.expected_value
                own = np.asarray(ex.predict_raw(X), dtype=np.float64)
                sc["efficiency_vs_model_maxabs"] = float(np.max(np.abs(total - pred)))
                sc["efficiency_vs_assay_predict_raw_maxabs"] = float(np.max(np.abs(total - own)))
                sc["assay_predict_raw_vs_model_maxabs"] = float(np.max(np.abs(own - pred)))
                sc["expected_value"] = float(np.asarray(ex.expected_value).ravel()[0])
                sc["expected_value_check_maxabs"] = float(abs(sc["expected_value"] - raw_predict(model, bg).mean()))
                sc["finite"] = bool(np.isfinite(phi).all())
                sc["phi_shape"] = list(phi.shape)
            result["self_checks"].append(sc)
            print(
                f"  [{sname:>8}] assay fg={n_fg} bg={n_bg}: build {_f(build_s)}s shap_values {_f(shap_s)}s "
                f"eff(model) {_e(sc.get('efficiency_vs_model_maxabs'))} "
                f"eff(own) {_e(sc.get('efficiency_vs_assay_predict_raw_maxabs'))} rss {assay_rss:.0f}MB"
                + (f" ERROR {assay_err}" if assay_err else ""),
                flush=True,
            )
            save()

            for peer in peers:
                if peer == "shap" and sname not in shap_sizes:
                    continue
                if peer.startswith("woodelf") and sname not in woodelf_sizes:
                    continue
                case = {"model": mname, "size": sname, "peer": peer, "n_bg": n_bg, "scale": scale}
                Xp, phi_a, a = X, phi, dict(assay_ref)
                if peer == "shap" and shap_rows < n_fg:
                    # compare against assay on exactly the same (reduced) rows, freshly timed
                    Xp = X[:shap_rows]
                    case["scale"] = float(np.max(np.abs(pred[:shap_rows])))
                    rss_before = rss.begin()
                    try:
                        _, phi_a, b_s, s_s = run_assay(model, Xp, bg, args.algorithm, args.n_jobs, args.device)
                        a = {
                            "n_fg": len(Xp),
                            "build_s": b_s,
                            "shap_values_s": s_s,
                            "total_s": b_s + s_s,
                            "rss_before_mb": rss_before,
                            "rss_peak_mb": rss.end(),
                        }
                    except Exception as e:  # noqa: BLE001
                        phi_a, a = None, {"n_fg": len(Xp), "error": f"{type(e).__name__}: {e}"}
                        rss.end()
                case["n_fg"] = len(Xp)
                case["assay"] = a
                rss_before = rss.begin()
                try:
                    phi_p, init_s, call_s = run_with_timeout(
                        lambda: PEERS[peer](model, Xp, bg, columns) if peer != "shap" else PEERS[peer](model, Xp, bg),
                        args.peer_timeout,
                    )
                    case.update(
                        status="ok",
                        peer_init_s=init_s,
                        peer_shap_values_s=call_s,
                        peer_total_s=init_s + call_s,
                        peer_out_shape=list(np.shape(phi_p)),
                        peer_out_type=type(phi_p).__name__,
                    )
                except PeerTimeout:
                    phi_p = None
                    case.update(status="timeout", error=f"peer exceeded --peer-timeout {args.peer_timeout}s")
                except MemoryError as e:
                    phi_p = None
                    case.update(status="error", error=f"MemoryError: {e}")
                except Exception as e:  # noqa: BLE001
                    phi_p = None
                    msg = f"{type(e).__name__}: {e}"
                    unsupported = isinstance(e, (TypeError, NotImplementedError)) or "support" in str(e).lower()
                    case.update(status="unsupported" if unsupported else "error", error=msg[:500])
                case["rss_before_mb"] = rss_before
                case["peer_rss_peak_mb"] = rss.end()
                case["process_peak_rss_mb"] = rss.process_peak_mb
                if phi_p is not None:
                    # Arbiter independent of assay: the peer's efficiency against the model's own raw
                    # prediction, with expected value = mean raw prediction over the background.
                    ev = float(raw_predict(model, bg).mean())
                    try:
                        tot = np.asarray(phi_p, dtype=np.float64).reshape(len(Xp), -1).sum(axis=1) + ev
                        case["peer_efficiency_vs_model_maxabs"] = float(np.max(np.abs(tot - pred[: len(Xp)])))
                    except Exception as e:  # noqa: BLE001
                        case["peer_efficiency_error"] = f"{type(e).__name__}: {e}"
                    if phi_a is not None:
                        tot = phi_a.sum(axis=1) + ev
                        case["assay_efficiency_vs_model_maxabs"] = float(np.max(np.abs(tot - pred[: len(Xp)])))
                if phi_p is not None and phi_a is not None:
                    diff, err = compare(phi_a, phi_p)
                    case["max_abs_diff"] = diff
                    if err:
                        case["status"], case["error"] = "mismatch", err
                    else:
                        case["max_abs_diff_rel_scale"] = diff / case["scale"] if case["scale"] else None
                        case["agree_1e-5_scale"] = bool(diff <= 1e-5 * case["scale"])
                    case["ratio_peer_over_assay"] = case["peer_total_s"] / a["total_s"] if a.get("total_s") else None
                del phi_p
                result["cases"].append(case)
                print("  " + _case_line(case), flush=True)
                save()
                gc.collect()
            del ex, phi
            gc.collect()
        model = None  # freed before the next model is trained (not del: the peer lambdas above name it)
        gc.collect()

    save()
    print("\n" + format_table(result))
    print(f"\nwrote {shown(args.out)}")
    return 0


# --------------------------------------------------------------------------- printing


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def write_results(path, result):
    """The benchmark's JSON (numpy scalars and arrays as plain numbers), and where it went."""
    os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=2, default=_json_default)
    print(f"\nwrote {shown(path)}")


def _f(x, nd=3):
    return "-" if x is None else f"{x:.{nd}f}"


def _e(x):
    return "-" if x is None else f"{x:.1e}"


def _case_line(c):
    a = c.get("assay", {})
    return (
        f"[{c['size']:>8}] {c['peer']:>7} fg={c['n_fg']} bg={c['n_bg']}: {c['status']} "
        f"assay {_f(a.get('total_s'))}s peer {_f(c.get('peer_total_s'))}s "
        f"ratio {_f(c.get('ratio_peer_over_assay'), 1)} maxdiff {_e(c.get('max_abs_diff'))} "
        f"eff(assay) {_e(c.get('assay_efficiency_vs_model_maxabs'))} "
        f"eff(peer) {_e(c.get('peer_efficiency_vs_model_maxabs'))} "
        f"rss {c['peer_rss_peak_mb']:.0f}MB" + (f" ({c['error']})" if c.get("error") else "")
    )


def format_table(result):
    hdr = [
        "model",
        "size",
        "fg",
        "bg",
        "peer",
        "status",
        "a_build",
        "a_shap",
        "a_total",
        "peer_s",
        "peer/a",
        "max|diff|",
        "diff/scale",
        "scale",
        "effA",
        "effP",
        "rssA_MB",
        "rssP_MB",
        "maxrss_MB",
    ]
    rows = []
    for c in result["cases"]:
        a = c.get("assay", {})
        rows.append(
            [
                c["model"],
                c["size"],
                str(c["n_fg"]),
                str(c["n_bg"]),
                c["peer"],
                c["status"],
                _f(a.get("build_s")),
                _f(a.get("shap_values_s")),
                _f(a.get("total_s")),
                _f(c.get("peer_total_s"), 2),
                _f(c.get("ratio_peer_over_assay"), 1),
                _e(c.get("max_abs_diff")),
                _e(c.get("max_abs_diff_rel_scale")),
                _f(c.get("scale"), 2),
                _e(c.get("assay_efficiency_vs_model_maxabs")),
                _e(c.get("peer_efficiency_vs_model_maxabs")),
                _f(a.get("rss_peak_mb"), 0),
                _f(c.get("peer_rss_peak_mb"), 0),
                _f(c.get("process_peak_rss_mb"), 0),
            ]
        )
    out = [_grid(hdr, rows)]

    hdr2 = [
        "model",
        "size",
        "fg",
        "bg",
        "a_build",
        "a_shap",
        "a_total",
        "eff(model)",
        "eff(own)",
        "own-vs-model",
        "scale",
        "rssA_MB",
        "error",
    ]
    rows2 = []
    for s in result["self_checks"]:
        a = s["assay"]
        rows2.append(
            [
                s["model"],
                s["size"],
                str(s["n_fg"]),
                str(s["n_bg"]),
                _f(a.get("build_s")),
                _f(a.get("shap_values_s")),
                _f(a.get("total_s")),
                _e(s.get("efficiency_vs_model_maxabs")),
                _e(s.get("efficiency_vs_assay_predict_raw_maxabs")),
                _e(s.get("assay_predict_raw_vs_model_maxabs")),
                _f(s["scale"], 2),
                _f(a.get("rss_peak_mb"), 0),
                (s.get("error") or "")[:60],
            ]
        )
    out.append("\nassay self-check (efficiency: max |sum(phi) + expected_value - raw prediction|):")
    out.append(_grid(hdr2, rows2))
    notes = []
    for c in result["cases"]:
        if c.get("agree_1e-5_scale") is False:
            notes.append(
                f"DISAGREEMENT {c['model']} {c['size']} vs {c['peer']}: max|diff| "
                f"{c['max_abs_diff']:.3e} > 1e-5 x scale {c['scale']:.3g}; efficiency vs model "
                f"prediction: assay {_e(c.get('assay_efficiency_vs_model_maxabs'))}, "
                f"{c['peer']} {_e(c.get('peer_efficiency_vs_model_maxabs'))}"
            )
        if c["status"] != "ok":
            notes.append(f"{c['status'].upper()} {c['model']} {c['size']} {c['peer']}: {c.get('error')}")
    for s in result["self_checks"]:
        e = s.get("efficiency_vs_assay_predict_raw_maxabs")
        if s.get("error") or (e is not None and e > 1e-5 * max(s["scale"], 1e-12)):
            notes.append(f"SELF-CHECK {s['model']} {s['size']}: error={s.get('error')} eff(own)={e}")
    out.append(
        f"\nprocess peak RSS: {result.get('process_peak_rss_mb', 0):.0f} MB; nproc={result['machine'].get('nproc')}"
    )
    out.extend(notes or ["no disagreements > 1e-5 x output scale, no failures"])
    return "\n".join(out)


def _grid(hdr, rows):
    w = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(hdr)]
    line = "  ".join(h.rjust(w[i]) for i, h in enumerate(hdr))
    return "\n".join([line, "-" * len(line)] + ["  ".join(c.rjust(w[i]) for i, c in enumerate(r)) for r in rows])


if __name__ == "__main__":
    sys.exit(main())
