"""fastText quality classifier trained on real paragraphs vs bad documents made from them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fasttext")
if not hasattr(__import__("fasttext"), "train_supervised"):
    pytest.skip("the fasttext package that can train is not installed", allow_module_level=True)

from curate.stages.quality.stage import QualityStage  # noqa: E402
from curate.stages.quality_model import QualityModel, main  # noqa: E402

DATA = Path(__file__).parent / "data" / "quality"
sys.path.insert(0, str(DATA))
from make_bad import make_bad  # noqa: E402
from test_quality import good_docs, table_of  # noqa: E402


def _write(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")
    return path


def test_train_and_score_ja(tmp_path):
    good = good_docs("ja")
    bad = [t for _, t in make_bad(good, "ja", n_per_kind=20, seed=1)]
    # train on the first half of each, score the held-out second half
    g = _write(tmp_path / "good.jsonl", good[::2])
    b = _write(tmp_path / "bad.jsonl", bad[::2])
    out = tmp_path / "model.bin"
    assert main(["--good", str(g), "--bad", str(b), "--out", str(out), "--lang", "ja"]) == 0
    model = QualityModel(out, "ja")
    p_good, p_bad = model.score(good[1::2]), model.score(bad[1::2])
    assert p_good.dtype == np.float32 and np.all((p_good >= 0) & (p_good <= 1))
    assert p_good.mean() > 0.8 and p_bad.mean() < 0.5
    # usable from a recipe: fills model_score and its threshold is a rule
    stage = QualityStage.from_section({"model": str(out), "min_model_score": 0.5}, "ja")
    res = stage(table_of(good[1:5]))
    sig = res.column("quality_signals").to_pylist()
    assert all(s["model_score"] is not None for s in sig)
    assert "min_model_score" in [r[0] for r in stage.settings.rules]
