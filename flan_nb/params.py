"""Notebook parameters: the `parameters` cell, the papermill profiles, and validated configs.

Every notebook has exactly one cell tagged `parameters` holding `UPPER_SNAKE: type = literal  # why`
lines (the annotation is what `papermill --help-notebook` shows). Those literals are the `book`
profile: a default is written there and nowhere else (config classes have no defaults, and
`notebooks/params/book.yaml`, if present, sets nothing that repeats one).
`notebooks/params/<profile>.yaml` maps a notebook stem (e.g. `01_bpe`) to the values that profile
changes; `flan-nb params NOTEBOOK --profile P` writes one notebook's values as a plain papermill
file (`papermill -f FILE`).

Everything is checked here before anything executes: names and types against the parameters cell,
values by building the notebook's config object (the class its second cell passes to
`make_config`), and the values that name files or runs (`CORPUS`, `BASE_RUN`, `PLAN`, `DATA_DIR`)
against the file system. A relative path in a parameter is looked up from the book root (the
repository), then from `notebooks/` (where the notebooks and their plans live), never from the
current directory, so a notebook runs the same from Jupyter, papermill or `flan-nb run`.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import json
import os
from pathlib import Path
from typing import Any, Mapping

import yaml

from flan_nb.errors import UserError, require
from flan_nb.notebook import pretty_config
from flan_nb.paths import CHECKPOINTS_DIR, repo_root, runs_dir
from flan_nb.tinyworld import SIZES, parse_corpus

PROFILES = ("smoke", "book", "tpu_full")
PARAMS_DIRNAME = "params"


@dataclasses.dataclass(frozen=True)
class Parameter:
    name: str
    default: Any
    comment: str
    type: str = ""  # the annotation's text ("int", "Optional[int]", "list"); "" if none


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
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, annotation = node.targets[0], ""
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, annotation = node.target, ast.unparse(node.annotation)
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        line = lines[node.lineno - 1]
        # The comment starts after the value (a string value may itself hold a '#').
        rest = line[node.value.end_col_offset:] if node.end_lineno == node.lineno else ""
        comment = rest.split("#", 1)[1].strip() if "#" in rest else ""
        params[target.id] = Parameter(target.id, ast.literal_eval(node.value), comment,
                                      annotation.strip("'\""))
    return params


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "tuple": list}


def _annotated_types(annotation: str) -> tuple[Any, bool] | None:
    """("int", False) for `int`, ("int", True) for `Optional[int]` / `int | None`; None when the
    annotation is absent or not one of the simple types parameters use."""
    text = annotation.replace(" ", "")
    optional = False
    if text.startswith("Optional[") and text.endswith("]"):
        text, optional = text[len("Optional["):-1], True
    parts = text.split("|")
    if "None" in parts:
        parts.remove("None")
        optional = True
    if len(parts) != 1:
        return None
    base = parts[0].split("[", 1)[0]
    return (_TYPES[base], optional) if base in _TYPES else None


def check_value(name: str, value: Any, default: Any, annotation: str = "") -> Any:
    """`value` coerced to the parameter's type (its annotation, else its default's type), or a
    UserError naming the parameter. None is allowed only for `Optional[...]` parameters (and,
    without annotation, where the default is None)."""
    declared = _annotated_types(annotation)
    like = default
    if declared is not None:
        kind, optional = declared
        if value is None and optional:
            return None
        if default is None:  # Optional[int] = None: the annotated type decides
            like = {int: 0, float: 0.0, str: "", bool: False, list: []}[kind]
    elif default is None or value is None:
        return value
    expected = "null or " * bool(declared and declared[1]) + _type_name(like)
    if isinstance(like, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(like, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(like, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(like, (list, tuple)):
        if isinstance(value, (list, tuple)):
            return list(value)
    elif isinstance(value, type(like)):
        return value
    raise UserError(
        f"parameter {name} must be {expected} (like its default {default!r}), "
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
    """The overrides `profile` sets for this notebook. `book` is the notebook's own defaults: its
    file is optional and sets nothing for a notebook whose defaults are the book's."""
    if profile not in PROFILES:
        raise UserError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    notebook = Path(notebook)
    path = profile_path(notebook.parent, profile)
    if profile == "book" and not path.is_file():
        return {}
    if not path.is_file():
        raise UserError(f"profile file {str(path)} is missing")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return dict(data.get(notebook.stem) or {})


def resolve_parameters(
    notebook: str | Path, profile: str, overrides: Mapping[str, Any] | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    """Profile values then `overrides`, each name and type checked against the notebook, and
    (with `validate`) every value checked by building the notebook's config object.

    Returns only the values that differ from the notebook's own defaults' source (what papermill
    injects); raises UserError on an unknown name, a value of the wrong type or a bad value.
    The file-system checks are `check_files` (a plan's runs may name runs made before them).
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
            chosen[name] = check_value(name, value, declared[name].default,
                                       declared[name].type)
    if validate:
        build_config(notebook, all_values(notebook, chosen))
    return chosen


def all_values(notebook: str | Path, chosen: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter of the notebook with `chosen` applied (what params.yaml records)."""
    values = {name: p.default for name, p in notebook_parameters(notebook).items()}
    values.update(chosen)
    return values


# -- the config object: the validation the notebook's second cell does -------------------------

def config_class(notebook: str | Path):
    """The dataclass the notebook's code passes to `make_config(CLASS, globals())`, imported
    from the module its `from MODULE import CLASS` line names; None if it calls no make_config."""
    for cell in read_notebook(notebook).get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if "make_config" not in source:
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        imports = {alias.asname or alias.name: node.module for node in ast.walk(tree)
                   if isinstance(node, ast.ImportFrom) for alias in node.names}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "make_config"
                    and node.args and isinstance(node.args[0], ast.Name)
                    and node.args[0].id in imports):
                module = importlib.import_module(imports[node.args[0].id])
                return getattr(module, node.args[0].id)
    return None


_VALID: dict[tuple[str, str], Any] = {}  # (notebook, values) -> config: plans ask repeatedly


def build_config(notebook: str | Path, values: Mapping[str, Any]):
    """The notebook's config object built from every parameter value (None if the notebook has
    no config class); raises the UserError the notebook's second cell would raise."""
    key = (str(Path(notebook).resolve()), json.dumps(dict(values), sort_keys=True, default=str))
    if key not in _VALID:
        cls = config_class(notebook)
        _VALID[key] = None if cls is None else _construct(cls, values)
    return _VALID[key]


def _check_conventions(values: Mapping[str, Any]) -> None:
    """Checks every notebook shares by parameter name: a seed is a whole number >= 0 (NumPy and
    JAX refuse negative seeds), a TinyWorld SIZE is one of its sizes."""
    for name, value in values.items():
        if name == "SEED" or name.endswith("_SEED"):
            require(isinstance(value, int) and not isinstance(value, bool) and value >= 0,
                    f"{name} must be a whole number >= 0, got {value!r}")
    if "SIZE" in values:
        require(values["SIZE"] in SIZES,
                f"SIZE must be one of {', '.join(SIZES)} (TinyWorld sizes), got "
                f"{values['SIZE']!r}")


def _construct(cls, namespace: Mapping[str, Any]):
    _check_conventions(namespace)
    kwargs = {}
    for field in dataclasses.fields(cls):
        upper = field.name.upper()
        if upper in namespace:
            kwargs[field.name] = namespace[upper]
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise UserError(f"parameter {upper} is missing from the parameters cell")
    try:
        return cls(**kwargs)
    except UserError:
        raise
    except (TypeError, ValueError, KeyError, LookupError) as err:
        message = str(err).strip("'\"").splitlines()[0] if str(err) else type(err).__name__
        raise UserError(f"bad parameters for {cls.__name__}: {message}") from None


# -- parameters that name files, folders or runs ------------------------------------------------

def _is_url(text: str) -> bool:
    return "://" in text


def book_path(text: str, notebooks_dir: str | Path | None = None) -> str:
    """A path parameter as an absolute path: relative ones are looked up from the book root, then
    from the notebooks folder; never from the current directory. URLs are kept."""
    if not text or _is_url(text) or os.path.isabs(os.path.expanduser(text)):
        return os.path.expanduser(text) if text and not _is_url(text) else text

    root = repo_root()
    candidates = [root / text, Path(notebooks_dir or root / "notebooks") / text]
    for candidate in candidates:
        if candidate.exists():
            return str(candidate.resolve())
    return str(candidates[0])


def _is_path_value(name: str, value: Any) -> bool:
    """Does this parameter value name a file or folder (rather than a generated corpus or a run
    name under the runs folder)?"""
    if not isinstance(value, str) or not value or _is_url(value):
        return False
    if name == "CORPUS":
        return not value.startswith("tinyworld/")
    if name in ("BASE_RUN", "EXAMPLE_RUN"):
        return "/" in value
    return name in ("PLAN", "DATA_DIR")


def _plan_steps(path: str, plan: str) -> list[dict]:
    """The steps of a plan file, read from its YAML alone: the plan runner (`flan_nb.plans`,
    which imports this module) checks the rest when the plan runs."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise UserError(f"PLAN {plan!r}: not a readable YAML plan ({type(err).__name__}); "
                        f"the book's plans are notebooks/plans/*.yaml") from None
    steps = data.get("steps") if isinstance(data, dict) else None
    require(isinstance(steps, list) and steps and all(isinstance(s, dict) for s in steps),
            f"PLAN {plan!r}: 'steps' must be a non-empty list of notebook steps")
    profile = data.get("profile", "book")
    for step in steps:  # the run names a plain step gets (`flan_nb.runner.default_run_name`)
        stem = Path(str(step.get("notebook", ""))).stem
        step.setdefault("name", stem if profile == "book" else f"{stem}-{profile}")
    return steps


def _existing(values: Mapping[str, Any], name: str, notebooks_dir: str | Path | None,
              exists, what: str, fix: str) -> str | None:
    """The path parameter `name` of `values` names, resolved (`book_path`), after checking with
    `exists` (os.path.isfile or isdir) that it is there: `NAME 'value': no such WHAT (path);
    FIX` otherwise. None when the value names no path (unset, a URL, a generated corpus)."""
    value = values.get(name)
    if not _is_path_value(name, value):
        return None
    path = book_path(value, notebooks_dir)
    require(exists(path), f"{name} {value!r}: no such {what} ({path}); {fix}")
    return path


def check_files(values: Mapping[str, Any], notebooks_dir: str | Path | None = None,
                pending_runs: set[str] | frozenset = frozenset()) -> None:
    """The checks that need the file system, for the parameters among `values` that name files
    or runs: CORPUS exists, BASE_RUN and EXAMPLE_RUN hold checkpoints (or are among
    `pending_runs`, made earlier in the same plan), PLAN exists and has a run of
    TUNING_NOTEBOOK, DATA_DIR exists."""
    corpus = values.get("CORPUS")
    if isinstance(corpus, str) and corpus.startswith("tinyworld/"):
        try:
            parse_corpus(corpus)
        except UserError as err:
            raise UserError(f"CORPUS {corpus!r}: {err} (e.g. 'tinyworld/book' or "
                            f"'tinyworld/book/no-questions'), or give a text file") from None
    else:
        _existing(values, "CORPUS", notebooks_dir, os.path.isfile, "file",
                  "give a UTF-8 text file with one document per line, or "
                  "'tinyworld/<size>[/<mix>]'")
    plan = values.get("PLAN")
    path = _existing(values, "PLAN", notebooks_dir, os.path.isfile, "plan file",
                     "the book's plans are notebooks/plans/*.yaml")
    if path is not None:
        steps = _plan_steps(path, plan)
        if values.get("TUNING_NOTEBOOK") is not None:
            tuning = str(values["TUNING_NOTEBOOK"])
            stems = sorted({Path(str(step.get("notebook", ""))).stem for step in steps})
            require(Path(tuning).stem in stems,
                    f"TUNING_NOTEBOOK {tuning!r} has no run in PLAN {plan!r}; its notebooks are "
                    f"{', '.join(stems)}")
        if values.get("RUN_PLAN", False):  # the plan makes its runs before they are read
            pending_runs = set(pending_runs) | {str(step["name"]) for step in steps}
    # Runs a notebook loads: BASE_RUN (the model tuning starts from), EXAMPLE_RUN (chapter 09's
    # worked example; with RUN_PLAN the plan makes it, and the chapter checks it after the plan).
    run_names = {"BASE_RUN": values.get("BASE_RUN")}
    if not values.get("RUN_PLAN", False):
        run_names["EXAMPLE_RUN"] = values.get("EXAMPLE_RUN")
    for name, run in run_names.items():
        if not isinstance(run, str) or not run or _is_url(run) or run in pending_runs:
            continue
        if "/" in run:
            folder = Path(book_path(run, notebooks_dir))
            where = str(folder)
        else:
            require(run not in (".", ".."), f"{name} {run!r} is not a run name")
            folder, where = runs_dir() / run, f"under {runs_dir()}"
        require((folder / CHECKPOINTS_DIR).is_dir(),
                f"{name} {run!r} has no checkpoints ({where}): run its notebook first "
                f"(e.g. `flan-nb run notebooks/07_pretraining.ipynb` makes "
                f"07_pretraining-book), or name a run folder that has them")
    _existing(values, "DATA_DIR", notebooks_dir, os.path.isdir, "folder",
              "leave it empty for TFDS's default")


def check_plan_files(plan, exclude=()) -> None:
    """`check_files` for every run of a plan (`flan_nb.plans.Plan`), before the first one starts;
    a run may name as BASE_RUN a run made earlier in the plan."""
    excluded = {Path(e).stem for e in exclude}
    earlier: set[str] = set()
    for planned in plan.runs:
        if planned.notebook.stem not in excluded:
            try:
                check_files(planned.parameters(), planned.notebook.parent, frozenset(earlier))
            except UserError as err:
                raise UserError(f"plan {plan.path}: run {planned.name}: {err}") from None
        earlier.add(planned.name)


# -- in the notebook ----------------------------------------------------------------------------

# The parameter values the notebook's config was last built from (see `flan_nb.runs.current_run`,
# which names a notebook's run folder after them).
_NOTEBOOK_VALUES: dict[str, Any] = {}


def make_config(cls, namespace: Mapping[str, Any]):
    """Build dataclass `cls` from a notebook's globals: field `num_merges` <- `NUM_MERGES`.

    The dataclass's `__post_init__` validates and the file-system checks run (`check_files`);
    any problem surfaces as one UserError. Parameters naming files become absolute paths, so
    they mean the same whatever the kernel's current directory.
    """
    values = {k: v for k, v in namespace.items() if k.isupper() and not k.startswith("_")}
    check_files(values)
    resolved = {k: book_path(v) if _is_path_value(k, v) else v for k, v in values.items()}
    config = _construct(cls, resolved)
    if "_repr_pretty_" not in vars(cls):  # shown one field a line, within the page's width

        cls._repr_pretty_ = pretty_config
    _NOTEBOOK_VALUES.clear()
    _NOTEBOOK_VALUES.update(values)
    return config


def notebook_values() -> dict[str, Any]:
    """The parameter values `make_config` last read from a notebook's globals ({} if none)."""
    return dict(_NOTEBOOK_VALUES)


# -- papermill files and `flan-nb params` ---------------------------------------------------------

def profile_yaml(notebook: str | Path, profile: str) -> str:
    """Every parameter of `notebook` under `profile` as a flat YAML file for `papermill -f`."""
    chosen = resolve_parameters(notebook, profile)
    values = all_values(notebook, chosen)
    header = (f"# {Path(notebook).name}, profile {profile}: every parameter, for\n"
              f"#   papermill {Path(notebook).name} OUT.ipynb -f THIS_FILE\n")
    # Each value as JSON, which YAML reads as is: "text", 3, 0.5, true, null, [1, 2].
    return header + "".join(f"{name}: {json.dumps(value)}\n" for name, value in values.items())


def describe_parameters(notebook: str | Path) -> str:
    """One line per parameter: name, type, default and its comment."""
    params = notebook_parameters(notebook)
    rows = [(p.name, p.type or _type_name(p.default), repr(p.default), p.comment)
            for p in params.values()]
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(3)]
    return "\n".join(f"{n:<{widths[0]}}  {t:<{widths[1]}}  {d:<{widths[2]}}  # {c}"
                     for n, t, d, c in rows)
