#!/usr/bin/env bash
# One short run of every GPU check, for a lent GPU machine (see README "GPU checks"):
# the compiled kernels against their references at odd shapes in fp32/bf16/fp16,
# kernels vs torch eager / torch.compile, the LayerNorm tile sweep and profile, and
# trainer tokens/s and MFU with kernels on and off. Results go to ${OUT:-out/gpu};
# copy $OUT/layer_norm_tiles.json to kernels/ to keep the tiles it measured.
#   bash bench/gpu.sh            # ~4 minutes on an H100, most of it compiling
set -u
OUT=${OUT:-out/gpu}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
# the project virtualenv when there is one: plain python3 lacks the dependencies
if [ -x .venv/bin/python ]; then PY=${PY:-.venv/bin/python}; else PY=${PY:-python3}; fi
if ! $PY -c 'import sys, torch; sys.exit(not torch.cuda.is_available())'; then
  echo "bench/gpu.sh: no CUDA GPU available, nothing measured (TRITON_INTERPRET=1 $PY bench/kernels_check.py --cpu checks the kernels on the CPU)."
  exit 0
fi
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv > "$OUT/gpu.txt" 2>&1
timeout 240 $PY bench/kernels_check.py > "$OUT/kernels_check.txt" 2>&1; echo "kernels_check rc=$?"
# the sweep before the kernel bench: it records the fastest LayerNorm tiles, which the kernel bench then uses
cp kernels/layer_norm_tiles.json "$OUT/layer_norm_tiles.json" 2>/dev/null
timeout 300 $PY bench/layer_norm_sweep.py --out "$OUT/layer_norm_sweep.txt" --tiles-out "$OUT/layer_norm_tiles.json" \
  > "$OUT/layer_norm_sweep.log" 2>&1; echo "sweep rc=$?"
KERNELS_LN_TILES="$OUT/layer_norm_tiles.json" timeout 150 $PY bench/kernels.py --out "$OUT/kernels.txt" \
  > "$OUT/kernels.log" 2>&1; echo "kernels rc=$?"
KERNELS_LN_TILES="$OUT/layer_norm_tiles.json" timeout 200 $PY bench/train.py --skip-cpu --gpu-settings kernels,torch > "$OUT/train.txt" 2>&1; echo "train rc=$?"
tail -n 2 "$OUT/kernels_check.txt"; grep FAIL "$OUT/kernels_check.txt"
tail -n 25 "$OUT/kernels.txt" "$OUT/layer_norm_sweep.txt" 2>/dev/null
tail -n 8 "$OUT/train.txt"
