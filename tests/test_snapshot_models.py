"""The publish-time models (queries/snapshot, civicstat/publish/models.py): every file has its
header, the loader orders models by dependency and refuses a cycle, an unknown dependency or a
missing header line, and which requests count in performance figures is written once."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from civicstat import PROJECT_DIR
from civicstat.publish.models import (
    REQUIRED_KEYS,
    SNAPSHOT_MODELS_DIR,
    ModelError,
    load_models,
    order_models,
    snapshot_models,
)

HEADER = """-- returns: {name}
-- params: none
-- materialized: {materialized}
-- snapshots: {snapshots}
-- depends: {depends}
"""


def write_model(root: Path, name: str, body: str, *, depends: str = "none",
                materialized: str = "table", snapshots: str = "internal", extra: str = "") -> None:
    text = HEADER.format(name=name, materialized=materialized, snapshots=snapshots, depends=depends)
    (root / f"{name}.sql").write_text(text + extra + body + "\n", encoding="utf-8")


def names(models) -> list[str]:
    return [m.name for m in models]


def test_every_model_file_has_a_header():
    files = sorted(SNAPSHOT_MODELS_DIR.rglob("*.sql"))
    assert files
    for path in files:
        header = [line for line in path.read_text(encoding="utf-8").splitlines()
                  if line.startswith("--")]
        keys = {re.match(r"--\s*(\w+):", line).group(1) for line in header
                if re.match(r"--\s*(\w+):", line)}
        assert set(REQUIRED_KEYS) <= keys, path
    assert len(load_models()) == len(files)


def test_the_repository_models_are_ordered_by_dependency():
    for snapshot, models in snapshot_models().items():
        position = {m.name: i for i, m in enumerate(models)}
        for model in models:
            for dependency in model.depends:
                if dependency in position:
                    assert position[dependency] < position[model.name], (snapshot, model.name)
    internal = names(snapshot_models()["internal"])
    assert internal.index("requests") < internal.index("performance_requests") < internal.index(
        "daily_flows") < internal.index("daily_type_flows") < internal.index("scoped_type_flows")
    public = names(snapshot_models()["public"])
    assert {"counted_requests", "daily_close_bands", "aggregate_only_monthly"} <= set(public)
    assert not {"close_times", "open_requests"} & set(public)


def test_the_loader_orders_models_by_dependency(tmp_path):
    write_model(tmp_path, "c_total", "select count(*) as n from b_middle", depends="b_middle")
    write_model(tmp_path, "b_middle", "select * from a_first", depends="a_first")
    write_model(tmp_path, "a_first", "select 1 as x")
    write_model(tmp_path, "z_alone", "select 2 as y")
    assert names(order_models(load_models(tmp_path), "internal")) == [
        "a_first", "z_alone", "b_middle", "c_total"
    ]


def test_the_loader_refuses_a_cycle(tmp_path):
    write_model(tmp_path, "one", "select * from two", depends="two")
    write_model(tmp_path, "two", "select * from one", depends="one")
    with pytest.raises(ModelError, match="cycle"):
        order_models(load_models(tmp_path), "internal")


def test_the_loader_refuses_an_unknown_or_undeclared_dependency(tmp_path):
    write_model(tmp_path, "one", "select * from nowhere", depends="nowhere")
    with pytest.raises(ModelError, match="unknown dependency"):
        order_models(load_models(tmp_path), "internal")
    (tmp_path / "one.sql").unlink()
    write_model(tmp_path, "one", "select 1 as x")
    write_model(tmp_path, "two", "select * from one")  # reads one without declaring it
    with pytest.raises(ModelError, match="does not declare"):
        order_models(load_models(tmp_path), "internal")


def test_the_loader_refuses_a_missing_or_unknown_header_line(tmp_path):
    for key in REQUIRED_KEYS:
        text = HEADER.format(name="m", materialized="table", snapshots="internal", depends="none")
        text = "".join(line for line in text.splitlines(keepends=True)
                       if not line.startswith(f"-- {key}:"))
        (tmp_path / "m.sql").write_text(text + "select 1 as x\n", encoding="utf-8")
        with pytest.raises(ModelError, match=f"'-- {key}:' is missing"):
            load_models(tmp_path)
    write_model(tmp_path, "m", "select 1 as x", extra="-- materialised: table\n")
    with pytest.raises(ModelError, match="unknown header key"):
        load_models(tmp_path)


def test_the_loader_checks_parameters_splices_and_macros(tmp_path):
    write_model(tmp_path, "m", "select $as_of as x")  # $as_of not declared
    with pytest.raises(ModelError, match="declares"):
        load_models(tmp_path)
    write_model(tmp_path, "m", "select {{ whatever }} from t")
    with pytest.raises(ModelError, match="unknown splices"):
        load_models(tmp_path)
    write_model(tmp_path, "m", "select 1 as x", materialized="macro")  # no arguments line
    with pytest.raises(ModelError, match="arguments"):
        load_models(tmp_path)


def _sql_and_python_outside_tests() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "civicstat", "queries",
         "views", "app.py"],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=True,
    ).stdout.split()
    return [PROJECT_DIR / name for name in listed
            if name.endswith((".sql", ".py")) and (PROJECT_DIR / name).is_file()]


def test_which_requests_count_in_performance_figures_is_written_once():
    """One model (performance_requests, with is_not_duplicate) decides it: no other SQL or Python
    outside tests/ restates the rule, in any spelling."""
    duplicate_tests = re.compile(r"(distinct\s+from|<>|!=|=)\s*'duplicate'", re.IGNORECASE)
    information_only_tests = re.compile(r"not\s+(\w+\.)?is_information_only\b", re.IGNORECASE)
    found_duplicate, found_information_only = [], []
    for path in _sql_and_python_outside_tests():
        text = path.read_text(encoding="utf-8")
        found_duplicate += [path.relative_to(PROJECT_DIR).as_posix()
                            for _ in duplicate_tests.finditer(text)]
        found_information_only += [path.relative_to(PROJECT_DIR).as_posix()
                                   for _ in information_only_tests.finditer(text)]
    assert found_duplicate == ["queries/snapshot/base/is_not_duplicate.sql"]
    assert found_information_only == ["queries/snapshot/base/performance_requests.sql"]
    body = (SNAPSHOT_MODELS_DIR / "base" / "performance_requests.sql").read_text(encoding="utf-8")
    assert "is_not_duplicate(closure) and not is_information_only" in body
