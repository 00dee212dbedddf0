"""The example stage of README.md's "Adding a stage", run exactly as the README prints it."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pyarrow as pa
import pytest

from curate.io.schema import SHARD_SCHEMA
from curate.recipe import RecipeError, check_settings
from curate.report.stats import merge_stats, table_stats
from curate.stages import registry
from pipelines.pass1 import StageChain

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_blocks() -> list[str]:
    """The python code blocks of the README's "Adding a stage" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Adding a stage\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.fixture(scope="module")
def example():
    module = types.ModuleType("curate.stages.substrings")
    sys.modules[module.__name__] = module  # dataclasses look their module up by name
    try:
        exec(compile(readme_blocks()[0], "README.md", "exec"), module.__dict__)
        yield module
    finally:
        del sys.modules[module.__name__]


def table_of(texts: list[str | None], dropped: dict[int, str] | None = None) -> pa.Table:
    n = len(texts)
    cols = {name: pa.nulls(n, SHARD_SCHEMA.field(name).type) for name in SHARD_SCHEMA.names}
    cols["id"] = pa.array([f"doc-{i}" for i in range(n)])
    cols["text"] = pa.array(texts, pa.string())
    cols["drop_reason"] = pa.array([(dropped or {}).get(i) for i in range(n)], pa.string())
    return pa.table(cols, schema=SHARD_SCHEMA)


def test_readme_stage_drops_forbidden_phrases(example):
    stage = example.SubstringStage.from_section({"forbidden": ["Lorem ipsum", "404 Not Found"]}, "ko")
    texts = ["오늘 날씨가 맑다.", "Lorem ipsum dolor sit amet", "페이지 없음: 404 Not Found", None, "Lorem ipsum 2"]
    out = stage(table_of(texts, dropped={4: "langid:other_lang"}))
    assert out.column("drop_reason").to_pylist() == [
        None,
        "substrings:forbidden",
        "substrings:forbidden",
        None,
        "langid:other_lang",  # a reason already set is kept
    ]
    assert out.column("text").to_pylist() == texts  # a filter never edits the text
    stats = merge_stats([table_stats(out.slice(0, 2)), table_stats(out.slice(2))])
    assert stats["drop_reasons"] == {"substrings:forbidden": 2, "langid:other_lang": 1}
    assert example.SubstringStage.from_section(None, "ko")(table_of(texts)).column("drop_reason").null_count == 5


def test_readme_stage_settings_are_checked(example):
    with pytest.raises(ValueError, match="forbidden: must be a string or a list of strings"):
        example.SubstringStage.from_section({"forbidden": 3}, "ko")
    with pytest.raises(ValueError, match="forbiden: unknown setting"):
        example.SubstringStage.from_section({"forbiden": ["x"]}, "ko")
    with pytest.raises(ValueError, match="empty phrase"):
        example.SubstringStage.from_section({"forbidden": ["x", ""]}, "ko")


def test_readme_registry_line_adds_the_stage(example, monkeypatch):
    line = readme_blocks()[1]
    names = re.search(r"BATCH_STAGES = \((.*)\)", line).group(1).replace("...", "").split(",")
    order = [n.strip() for n in names if n.strip()]
    assert order[:3] == ["ExtractStage", "NormalizeStage", "SubstringStage"]
    stages = list(registry.BATCH_STAGES)
    stages.insert(2, example.SubstringStage)
    monkeypatch.setattr(registry, "BATCH_STAGES", tuple(stages))
    monkeypatch.setitem(registry.BY_NAME, "substrings", example.SubstringStage)
    recipe = {"_path": "r.yaml", "substrings": {"forbidden": ["Lorem ipsum"]}}
    chain = StageChain(recipe, "ko", ["normalize", "substrings"])
    assert [s.name for s in chain.stages] == ["normalize", "substrings"]
    out = chain(table_of(["Lorem ipsum dolor", "맑은 날"]))
    assert out.column("drop_reason").to_pylist() == ["substrings:forbidden", None]
    monkeypatch.setattr("curate.recipe.BATCH_STAGES", registry.BATCH_STAGES)
    with pytest.raises(RecipeError, match=r"^r\.yaml: substrings: forbidden: must be a string"):
        check_settings({"_path": "r.yaml", "substrings": {"forbidden": 3}}, "ko")
