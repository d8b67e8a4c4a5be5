"""The publish-time models: load queries/snapshot/**/*.sql, check their headers, order them.

Each model is one .sql file (its name is the file's stem) holding one select (for a scalar
macro, `select <expression> as <name>`), after a header of comment lines:

    -- returns: per day and dimension values, the requests created and closed that day
    -- params: none
    -- materialized: table
    -- snapshots: internal
    -- depends: performance_requests

- returns: what the model holds (as in the read queries).
- params: values bound when the model is built (`$as_of`), as `name TYPE [NULL]`, or none.
- materialized: table, view, macro (a table macro) or scalar_macro.
- arguments: a macro's arguments (macros only; they are names, not `$` parameters).
- snapshots: internal, public or both: the snapshots it is built in.
- depends: the models (and inputs) it reads, or none. A public model reads an internal one
  as `internal.<name>`: the internal snapshot is written first and attached under that name.
- incremental (tables only, optional): how an incremental publish (civicstat/publish/
  incremental.py) brings the table up to date when a few requests changed:
  `rebuild` (the default: built again in full from its inputs), `rows by request_id` (one row
  per request at most: the changed requests' rows are deleted and their new rows inserted),
  `rows` (rows computed from one request each, no key: the changed requests' old rows are
  deleted as a multiset and their new rows inserted), or `sums` (counts grouped by the columns
  not named count_*: the changed requests' old counts are subtracted and their new ones added,
  per group), optionally `sums; keep: <expression>` naming when a group's row is kept (default:
  any count_* column not 0; the expression may use window functions over the merged rows).

A model names another only if it declares it: the loader refuses a header key it does not know,
a missing one, an unknown dependency, a model read but not declared, a cycle, and a `$`
parameter the header does not declare. Text that SQL cannot express (column lists generated
from civicstat/core) is written `{{ name }}` and filled from SPLICES: module constants, never
user input.
"""

from __future__ import annotations

import graphlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from civicstat import PROJECT_DIR
from civicstat.core.definitions import DERIVED_COLUMN_NAMES, derived_columns
from civicstat.core.privacy import public_select_list
from civicstat.core.schema import COLUMN_NAMES
from civicstat.serve.queries import Param, parse_param, read_header

SNAPSHOT_MODELS_DIR = PROJECT_DIR / "queries" / "snapshot"
SNAPSHOTS = ("internal", "public")
MATERIALIZATIONS = ("table", "view", "macro", "scalar_macro")
REQUIRED_KEYS = ("returns", "params", "materialized", "snapshots", "depends")
HEADER_KEYS = (*REQUIRED_KEYS, "arguments", "incremental")
INCREMENTAL_KINDS = ("rebuild", "rows by request_id", "rows", "sums")

# What publish writes from Python before the models run (from the store and the city's
# configuration), by snapshot: models may depend on these too.
INPUTS = {
    "internal": ("store.requests", "store.quarantine", "store.ingest_runs",
                 "request_types", "districts", "snapshot_info"),
    "public": ("store.requests", "request_types", "districts", "snapshot_info"),
}

# Generated SQL text for what SQL cannot express without restating a Python definition: the
# canonical columns (civicstat/core/schema.py), the derived columns (civicstat/core/
# definitions.py; the as-of time in them is the bound $as_of), and the public columns with
# coordinates coarsened (civicstat/core/privacy.py; the tier read from the column privacy_tier).
SPLICES = {
    "columns": ", ".join(f"r.{name}" for name in COLUMN_NAMES),
    "derived_columns": derived_columns("r"),
    "derived_column_names": ", ".join(f"r.{name}" for name in DERIVED_COLUMN_NAMES),
    "public_columns": public_select_list("r", "r.privacy_tier"),
}

_SPLICE = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_BOUND = re.compile(r"\$(\w+)")
_COMMENT = re.compile(r"--[^\n]*")


class ModelError(ValueError):
    """A model file is malformed, or the models' dependencies cannot be ordered."""


@dataclass(frozen=True)
class Model:
    name: str
    path: Path
    returns: str
    materialized: str
    snapshots: tuple[str, ...]
    depends: tuple[str, ...]
    params: tuple[Param, ...]
    arguments: tuple[str, ...]
    sql: str  # the file's text, splices filled in
    incremental: str = "rebuild"  # one of INCREMENTAL_KINDS (tables only)
    keep: str | None = None  # for `sums`: when a group's row is kept

    def statement(self) -> str:
        """The SQL that creates the model (in the current database: names are unqualified)."""
        if self.materialized == "table":
            return f"create table {self.name} as\n{self.sql}"
        if self.materialized == "view":
            return f"create view {self.name} as\n{self.sql}"
        arguments = ", ".join(self.arguments)
        if self.materialized == "macro":
            return f"create macro {self.name}({arguments}) as table\n{self.sql}"
        return f"create macro {self.name}({arguments}) as\n{_scalar_body(self)}"

    def values(self, available: dict[str, object]) -> dict[str, object]:
        """The bound values this model declares, taken from what publish provides."""
        missing = [p.name for p in self.params if p.name not in available]
        if missing:
            raise ModelError(f"{self.path}: publish provides no value for {missing}")
        for param in self.params:
            if available[param.name] is None and not param.nullable:
                raise ModelError(f"{self.path}: ${param.name} may not be NULL")
        return {p.name: available[p.name] for p in self.params}


def _scalar_body(model: Model) -> str:
    """A scalar macro's file is `select <expression> as <its name>`: the expression is its body."""
    body = _COMMENT.sub("", model.sql).strip()
    match = re.fullmatch(rf"select\s+(.+)\s+as\s+{model.name}", body, re.DOTALL)
    if not match:
        raise ModelError(f"{model.path}: a scalar macro is written `select <expression> as {model.name}`")
    return f"({match.group(1)})"


def _items(value: str) -> tuple[str, ...]:
    items = tuple(filter(None, (item.strip() for item in value.split(","))))
    return () if items == ("none",) else items


def parse_model(path: Path) -> Model:
    """Read one model file and check its header."""
    text = path.read_text(encoding="utf-8")
    header = read_header(text)
    for key in header:
        if key not in HEADER_KEYS:
            raise ModelError(f"{path}: unknown header key '-- {key}:'")
    for key in REQUIRED_KEYS:
        if key not in header:
            raise ModelError(f"{path}: header line '-- {key}:' is missing")
    materialized = header["materialized"]
    if materialized not in MATERIALIZATIONS:
        raise ModelError(f"{path}: materialized must be one of {MATERIALIZATIONS}")
    snapshots = _items(header["snapshots"])
    if not snapshots or set(snapshots) - set(SNAPSHOTS):
        raise ModelError(f"{path}: snapshots must name some of {SNAPSHOTS}")
    is_macro = materialized in ("macro", "scalar_macro")
    arguments = _items(header.get("arguments", "none"))
    if is_macro != ("arguments" in header):
        raise ModelError(f"{path}: '-- arguments:' is for macros, and every macro has it")
    params = []
    for item in _items(header["params"]):
        param = parse_param(item)
        if param is None:
            raise ModelError(f"{path}: cannot read parameter {item!r}")
        params.append(param)
    if is_macro and params:
        raise ModelError(f"{path}: a macro takes arguments, not bound parameters")
    unknown = set(_SPLICE.findall(text)) - SPLICES.keys()
    if unknown:
        raise ModelError(f"{path}: unknown splices {sorted(unknown)}")
    incremental, keep = _incremental(path, header.get("incremental"), materialized)
    sql = _SPLICE.sub(lambda m: SPLICES[m.group(1)], text)
    used, declared = set(_BOUND.findall(_COMMENT.sub("", sql))), {p.name for p in params}
    if used != declared:
        raise ModelError(f"{path}: header declares {sorted(declared)} but the SQL uses {sorted(used)}")
    return Model(
        name=path.stem,
        path=path,
        returns=header["returns"],
        materialized=materialized,
        snapshots=snapshots,
        depends=_items(header["depends"]),
        params=tuple(params),
        arguments=arguments,
        sql=sql,
        incremental=incremental,
        keep=keep,
    )


def _incremental(path: Path, value: str | None, materialized: str) -> tuple[str, str | None]:
    """The `-- incremental:` header: (kind, keep expression or None)."""
    if value is None:
        return "rebuild", None
    if materialized != "table":
        raise ModelError(f"{path}: '-- incremental:' is for tables")
    kind, _, keep = (part.strip() for part in value.partition(";"))
    if kind not in INCREMENTAL_KINDS:
        raise ModelError(f"{path}: incremental must be one of {INCREMENTAL_KINDS}")
    if keep:
        if kind != "sums" or not keep.startswith("keep:"):
            raise ModelError(f"{path}: only `sums; keep: <expression>` takes an expression")
        return kind, keep.removeprefix("keep:").strip()
    return kind, None


def order_models(models: list[Model], snapshot: str) -> tuple[Model, ...]:
    """The models built in `snapshot`, each after those it depends on (ties in path order).
    ModelError on a name built twice, an unknown or undeclared dependency, or a cycle."""
    mine = sorted((m for m in models if snapshot in m.snapshots), key=lambda m: m.path)
    by_name: dict[str, Model] = {}
    for model in mine:
        if model.name in by_name:
            raise ModelError(f"{snapshot}: {model.path} and {by_name[model.name].path} both build "
                             f"{model.name!r}")
        by_name[model.name] = model
    upstream = ({f"internal.{m.name}" for m in models if "internal" in m.snapshots}
                if snapshot == "public" else set())
    known = by_name.keys() | set(INPUTS[snapshot]) | upstream
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for model in mine:
        unknown = [d for d in model.depends if d not in known]
        if unknown:
            raise ModelError(f"{model.path}: unknown dependency {unknown} in the {snapshot} snapshot")
        body = _COMMENT.sub("", model.sql)
        for other in by_name.keys() | upstream:
            if other != model.name and other not in model.depends and _reads(body, other):
                raise ModelError(f"{model.path}: reads {other!r} but does not declare it")
        sorter.add(model.name, *(d for d in model.depends if d in by_name))
    ordered = []
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        raise ModelError(f"{snapshot}: the models depend on each other in a cycle: "
                         f"{' -> '.join(error.args[1])}") from None
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda name: by_name[name].path)
        ordered.extend(by_name[name] for name in ready)
        sorter.done(*ready)
    return tuple(ordered)


def _reads(body: str, name: str) -> bool:
    """Whether SQL reads `name` as a table or view (`from`/`join name`) or calls it (`name(`)."""
    qualified = re.escape(name)
    unqualified = "" if "." in name else r"(?<![\w.])"
    return bool(re.search(rf"(?:\b(?:from|join)\s+{qualified}\b|{unqualified}\b{qualified}\s*\()",
                          body))


def load_models(root: Path = SNAPSHOT_MODELS_DIR) -> list[Model]:
    """Every model file under `root`, parsed and checked (in path order)."""
    models = [parse_model(path) for path in sorted(root.rglob("*.sql"))]
    if not models:
        raise ModelError(f"no models under {root}")
    return models


@cache
def snapshot_models(root: Path = SNAPSHOT_MODELS_DIR) -> dict[str, tuple[Model, ...]]:
    """Each snapshot's models in the order they are built."""
    models = load_models(root)
    return {snapshot: order_models(models, snapshot) for snapshot in SNAPSHOTS}
