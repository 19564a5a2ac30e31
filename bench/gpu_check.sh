#!/usr/bin/env bash
# Every GPU check in one device call (the device tool lends a GPU for minutes, not hours):
# builds assay with ASSAY_CUDA=ON, runs test_cuda.py whole and the gpu-marked tests of the
# projection and attack kernels, then bench_treeshap.py --device cuda against assay's CPU kernel
# and woodelf's CuPy path on XGBoost 100 x depth 6 at 100k x 100k and 1M x 1M, then the CUDA
# kernel's own variants (bench_cuda_kernel.py).
#
#   bash bench/gpu_check.sh fetch       # here, with PyPI: the peer wheels the GPU machine lacks, into .whl/
#   bash bench/gpu_check.sh             # there: device run, carry [".whl"], timeout_s 540
#
# The steps' own limits (tests 160 s, bench_treeshap 200 s, bench_cuda_kernel 90 s) leave the
# build about 90 s of a 540 s call; bench_treeshap writes its JSON after every case, so a cut
# run still reports what it measured.
#
# Results go to $OUT (the device tool's folder), else bench/results/gpu/: nvidia-smi.txt, build.log,
# gpu_tests.log, treeshap_cuda.{json,log} and cuda_kernel.{json,log} (7 files; the device tool
# brings back at most 8). Knobs (environment): GPU_CHECK_SIZES, GPU_CHECK_PEERS, GPU_CHECK_DEVICE
# (cpu: a dry run of the plumbing on a machine without a GPU), GPU_CHECK_ARCH (CMake CUDA
# architectures; default 90-real, the H100/H200's own code only, to keep the build short).
set -uo pipefail
cd "$(dirname "$0")/.."
WHEELS=.whl

if [ "${1:-}" = "fetch" ]; then
  # Python 3.12 on manylinux x86_64, as on the GPU machine; its image has numpy, pandas, scipy,
  # scikit-learn, tqdm, torch, CuPy, pybind11, scikit-build-core, cmake and nvcc already.
  mkdir -p "$WHEELS"
  grep -qx "/$WHEELS/" .git/info/exclude 2>/dev/null || echo "/$WHEELS/" >> .git/info/exclude
  for spec in xgboost-cpu==3.2.0 lightgbm==4.7.0 woodelf-explainer==0.4.8 treelite==4.8.1; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux2014_x86_64 --platform any -d "$WHEELS" "$spec" || exit 1
  done
  ls -la "$WHEELS"
  exit 0
fi

OUT="${OUT:-bench/results/gpu}"
mkdir -p "$OUT"
SIZES="${GPU_CHECK_SIZES:-100kx100k,1mx1m}"
PEERS="${GPU_CHECK_PEERS:-assay-cpu,woodelf-gpu}"
DEVICE="${GPU_CHECK_DEVICE:-cuda}"
export PATH="$PATH:/usr/local/cuda/bin" PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
status=0
step() { echo "== $* ($(date +%T))"; }

step "device"
(nvidia-smi || echo "nvidia-smi: not here") > "$OUT/nvidia-smi.txt" 2>&1
head -12 "$OUT/nvidia-smi.txt"

SITE="$(mktemp -d -t assay-gpu-check.XXXXXX)"  # the build and the peer wheels, outside the source tree
if ls "$WHEELS"/*.whl >/dev/null 2>&1; then
  step "peer wheels"
  python3 -m pip install -q --no-index --no-deps --no-compile --target "$SITE/deps" "$WHEELS"/*.whl || exit 1
fi
export PYTHONPATH="$SITE/assay:$SITE/deps${PYTHONPATH:+:$PYTHONPATH}"

step "build (ASSAY_CUDA=ON)"
if ! ASSAY_CUDA=ON CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
     CMAKE_ARGS="-DCMAKE_CUDA_ARCHITECTURES=${GPU_CHECK_ARCH:-90-real}" \
     python3 -m pip install --no-build-isolation --no-deps --no-compile --target "$SITE/assay" . > "$OUT/build.log" 2>&1; then
  tail -30 "$OUT/build.log"
  exit 1
fi
python3 -c "import assay; print(assay.__file__, 'built_with_cuda', assay._core.built_with_cuda,
            'devices', assay._core.cuda_device_count(), 'cuda_available', assay.cuda_available())" || exit 1

step "tests: test_cuda.py whole, and the gpu tests of the projection and attack kernels"
{ timeout 100 python3 -m pytest -q -p no:cacheprovider -rfEs tests/test_cuda.py || echo "FAILED: test_cuda.py"
  timeout 60 python3 -m pytest -q -p no:cacheprovider -rfEs -m gpu tests/test_projections.py tests/test_margin_attack.py \
    || echo "FAILED: gpu tests of projections / attack"; } 2>&1 | tee "$OUT/gpu_tests.log" | tail -25
grep -q "^FAILED: " "$OUT/gpu_tests.log" && status=1

step "bench_treeshap --device $DEVICE: $SIZES against $PEERS"
timeout 200 python3 bench/bench_treeshap.py --device "$DEVICE" --models xgb6 --sizes "$SIZES" --peers "$PEERS" \
  --peer-timeout 90 --out "$OUT/treeshap_cuda.json" > "$OUT/treeshap_cuda.log" 2>&1
[ $? = 0 ] || status=1
tail -30 "$OUT/treeshap_cuda.log"

if [ "$DEVICE" = cuda ]; then
  step "bench_cuda_kernel: the kernel's accumulator variants"
  timeout 90 python3 bench/bench_cuda_kernel.py --out "$OUT/cuda_kernel.json" 2>&1 | tee "$OUT/cuda_kernel.log" | tail -20
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
fi
step "done (status $status)"
exit $status
