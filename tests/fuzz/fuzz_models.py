#!/usr/bin/env python
"""atheris harness over the model readers and converters (tests/fuzz/targets.py).

    python tests/fuzz/fuzz_models.py -max_total_time=60          # what CI runs
    python tests/fuzz/fuzz_models.py -max_total_time=3600 corpus/ # longer, keeping a corpus

The first input byte picks the target (UBJSON readers, XGBoost JSON, LightGBM dump); the rest is
spliced into a real model of that kind, so mutations stay close to valid models. Any exception
outside targets.ALLOWED, or a crash in the compiled code, is a finding: add the input to
tests/test_hardening.py as a regression test. The UBJSON target runs the compiled reader
(_core.ubjson_loads) against its Python reference, whose instrumented branches steer the fuzzer;
a disagreement between the two (an AssertionError) is a finding too.
"""

import os
import sys

import atheris

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
with atheris.instrument_imports():
    import targets  # noqa: E402
    import assay.trees._ubjson  # noqa: E402,F401
    import assay.trees._xgboost  # noqa: E402,F401
    import assay.trees._lightgbm  # noqa: E402,F401

SEEDS = targets.seed_models()
KEYS = ["ubj", "xgb", "lgb"]


def one_input(data: bytes):
    if not data:
        return
    which = data[0] % 3
    seed = SEEDS[KEYS[which]]
    body = data[1:]
    # splice the fuzzer's bytes into the seed at a position it also chooses
    pos = (int.from_bytes(body[:2], "little") % (len(seed) + 1)) if len(body) >= 2 else 0
    sample = seed[:pos] + body[2:] + seed[pos + len(body[2:]) :]
    targets.TARGETS[which](sample)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
