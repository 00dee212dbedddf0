#!/usr/bin/env bash
# Every bench command of the README once, at the smallest sizes its options allow, to
# check that each starts and finishes in this environment (after `pip install -e
# '.[bench]'`); the numbers of such short runs mean nothing. One line per bench:
# name, exit status, seconds; each one's output goes to ${OUT:-out/bench-smoke}/NAME.log.
# Without a CUDA GPU the GPU benches say so in one line and exit 0.
#   bash bench/smoke.sh [CORPORA]     # CORPORA: the shared corpora (default ../shared/corpora)
set -u
OUT=${OUT:-out/bench-smoke}
CORPORA=${1:-../shared/corpora}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
if [ -x .venv/bin/python ]; then PY=${PY:-.venv/bin/python}; else PY=${PY:-python3}; fi
failed=0
run() {
  local name=$1 start=$SECONDS rc
  shift
  timeout "${LIMIT:-300}" "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  echo "$name rc=$rc $((SECONDS - start))s"
  [ $rc -eq 0 ] || failed=$((failed + 1))
}
run dedup $PY bench/dedup.py --reviews 1000 --ray --corpora "$CORPORA"
run cli $PY bench/cli.py --docs 200 --rounds 1 --no-profile --corpora "$CORPORA"
run dedup_shingles $PY bench/dedup_shingles.py
run dedup_chrome $PY bench/dedup_chrome.py --seeds 0
run decontam $PY bench/decontam.py --mb 0.3 --ref-mb 0.1 --corpora "$CORPORA"
run pii $PY bench/pii.py --mb 0.3 --corpora "$CORPORA"
run pii_external $PY bench/pii_external.py --reference
run quality $PY bench/quality.py --n 10 --rounds 1 --corpora "$CORPORA"
run quality_mix $PY bench/quality_mix.py --langs ko --out "$OUT/quality_mix" --corpora "$CORPORA"
run report $PY bench/report.py --docs 2000 --curate-docs 100 --corpora "$CORPORA"
run extract $PY bench/extract.py --pages 10
run tokenizer $PY bench/tokenizer.py --vocab 500 --ko-train-chars 30000 --corpora "$CORPORA"
run train $PY bench/train.py --steps 2 --warmup 1 --batch 2 --seq 32 --gpu-seq 128 --gpu-steps 2 --gpu-warmup 1
run kernels $PY bench/kernels.py --batch 1 --seq 16
run kernels_check $PY bench/kernels_check.py
run layer_norm_sweep $PY bench/layer_norm_sweep.py --tokens 64 --hidden 128
# on a GPU this is the whole GPU check of bench/gpu.sh, about 4 minutes
LIMIT=900 run gpu env OUT="$OUT/gpu" PY="$PY" bash bench/gpu.sh
run corpus $PY -m curate.cli corpus --lang ko --input data/sample/ko.jsonl.gz --output "$OUT/corpus" --no-progress
run report_screenshot $PY bench/report_screenshot.py "$OUT/corpus" "$OUT/report.png"
run report_plots $PY bench/report_plots.py "$OUT/corpus" --repeat 1
run pass2 $PY bench/pass2.py --docs 2000 --repeat 1 --corpora "$CORPORA"
run scale $PY bench/scale.py --base 500 --factors 1,4 --corpora "$CORPORA"
echo "$failed failed"
[ $failed -eq 0 ]
