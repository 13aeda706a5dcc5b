"""Notebook parameters: the `parameters` cell, the papermill profiles, and validated configs.

Every notebook has exactly one cell tagged `parameters` holding `UPPER_SNAKE = literal  # why`
lines. Those literals are the `book` profile (the notebook defaults). `notebooks/params/<profile>.yaml`
maps a notebook stem (e.g. `01_bpe`) to the values that profile overrides. Names and types are
checked here, before anything executes.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path
from typing import Any, Mapping

import yaml

from flan_nb.errors import UserError

PROFILES = ("smoke", "book", "tpu_full")
PARAMS_DIRNAME = "params"


@dataclasses.dataclass(frozen=True)
class Parameter:
    name: str
    default: Any
    comment: str


def read_notebook(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"notebook {str(path)!r} not found (notebooks live in notebooks/NN_slug.ipynb)")
    if path.suffix != ".ipynb":
        raise UserError(f"{str(path)!r} is not a notebook (.ipynb)")
    return json.loads(path.read_text(encoding="utf-8"))


def parameters_cell(notebook: dict) -> str:
    """The source of the single cell tagged `parameters`."""
    tagged = [
        cell for cell in notebook.get("cells", [])
        if "parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    if len(tagged) != 1:
        raise UserError(f"a notebook needs exactly one cell tagged 'parameters' (found {len(tagged)})")
    source = tagged[0]["source"]
    return "".join(source) if isinstance(source, list) else source


def notebook_parameters(path: str | Path) -> dict[str, Parameter]:
    """Name -> Parameter for every assignment in the notebook's `parameters` cell."""
    source = parameters_cell(read_notebook(path))
    lines = source.splitlines()
    params: dict[str, Parameter] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        line = lines[node.lineno - 1]
        comment = line.split("#", 1)[1].strip() if "#" in line else ""
        params[name] = Parameter(name, ast.literal_eval(node.value), comment)
    return params


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def check_value(name: str, value: Any, default: Any) -> Any:
    """`value` coerced to the type of `default`, or a UserError naming the parameter."""
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, (list, tuple)):
        if isinstance(value, (list, tuple)):
            return list(value)
    elif isinstance(value, type(default)):
        return value
    raise UserError(
        f"parameter {name} must be {_type_name(default)} (like its default {default!r}), "
        f"got {_type_name(value)} {value!r}"
    )


def parse_cli_value(text: str) -> Any:
    """A `-p NAME VALUE` value, read as YAML (`3`, `0.1`, `true`, `[a, b]`, `text`)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def profile_path(notebooks_dir: Path, profile: str) -> Path:
    return notebooks_dir / PARAMS_DIRNAME / f"{profile}.yaml"


def load_profile(notebook: str | Path, profile: str) -> dict[str, Any]:
    """The overrides `profile` sets for this notebook ({} for `book`, whose values are the defaults)."""
    if profile not in PROFILES:
        raise UserError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    notebook = Path(notebook)
    path = profile_path(notebook.parent, profile)
    if not path.is_file():
        raise UserError(f"profile file {str(path)} is missing")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return dict(data.get(notebook.stem) or {})


def resolve_parameters(
    notebook: str | Path, profile: str, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Profile values then `overrides`, each name and type checked against the notebook.

    Returns only the values that differ from the notebook's own defaults' source (what papermill
    injects); raises UserError on an unknown name or a value of the wrong type.
    """
    declared = notebook_parameters(notebook)
    chosen: dict[str, Any] = {}
    sources = [(f"profile {profile!r}", load_profile(notebook, profile)),
               ("-p", dict(overrides or {}))]
    for where, values in sources:
        for name, value in values.items():
            if name not in declared:
                known = ", ".join(sorted(declared))
                raise UserError(
                    f"unknown parameter {name!r} ({where}) for {Path(notebook).name}; "
                    f"its parameters are: {known}"
                )
            chosen[name] = check_value(name, value, declared[name].default)
    return chosen


def all_values(notebook: str | Path, chosen: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter of the notebook with `chosen` applied (what params.yaml records)."""
    values = {name: p.default for name, p in notebook_parameters(notebook).items()}
    values.update(chosen)
    return values


def make_config(cls, namespace: Mapping[str, Any]):
    """Build dataclass `cls` from a notebook's globals: field `num_merges` <- `NUM_MERGES`.

    The dataclass's `__post_init__` validates; any problem surfaces as one UserError.
    """
    kwargs = {}
    for field in dataclasses.fields(cls):
        upper = field.name.upper()
        if upper in namespace:
            kwargs[field.name] = namespace[upper]
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise UserError(f"parameter {upper} is missing from the parameters cell")
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise UserError(f"bad parameters for {cls.__name__}: {err}") from None


def require(condition: bool, message: str) -> None:
    """Raise UserError(message) unless `condition` (for config `__post_init__` checks)."""
    if not condition:
        raise UserError(message)
