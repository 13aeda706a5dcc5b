"""Every notebook: no committed outputs, one `parameters` cell, kernel python3, valid profiles,
listed in the table of contents, and covered by a smoke test."""

import json
from pathlib import Path

import pytest
import yaml

from flan_nb.params import PROFILES, check_value, notebook_parameters, resolve_parameters

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]


def _profile(name: str) -> dict:
    return yaml.safe_load((REPO / "notebooks" / "params" / f"{name}.yaml").read_text()) or {}


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_clean(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], "strip outputs before committing"
            assert cell["execution_count"] is None
    tagged = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    title = nb["cells"][0]
    assert title["cell_type"] == "markdown"
    assert "".join(title["source"]).startswith(f"# {path.stem[:2]}.")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_parameter_has_a_comment_and_upper_snake_name(path):
    for name, param in notebook_parameters(path).items():
        assert name.isupper(), name
        assert param.comment, f"{name} needs a trailing comment saying what it is"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_profiles_name_known_parameters_with_right_types(path):
    declared = notebook_parameters(path)
    for profile in PROFILES:
        for name, value in (_profile(profile).get(path.stem) or {}).items():
            assert name in declared, f"{profile}.yaml sets unknown {name}"
            check_value(name, value, declared[name].default)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_profiles_hold_only_what_they_change(path):
    """The parameters cell is the one home of a default: the book profile is those defaults
    (it sets nothing), and every other profile sets only values that differ from them."""
    declared = notebook_parameters(path)
    assert resolve_parameters(path, "book", validate=False) == {}
    for profile in PROFILES:
        for name, value in (_profile(profile).get(path.stem) or {}).items():
            default = declared[name].default
            assert value != (list(default) if isinstance(default, tuple) else default), \
                f"{profile}.yaml repeats the default {name}={value!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_listed_in_toc_and_smoke_tested(path):
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in (part.get("chapters") or [])]
    assert f"notebooks/{path.stem}" in files
    assert (REPO / "tests" / f"test_notebook_{path.stem[:2]}.py").is_file()
