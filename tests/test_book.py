"""The book's static parts: the TOC points at existing files, the map figure is reproducible."""

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def test_every_toc_entry_exists():
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in (part.get("chapters")
                                                                         or [])]
    for entry in files:
        assert any((REPO / f"{entry}{ext}").is_file() for ext in (".md", ".ipynb")), entry


def test_data_path_figure_is_up_to_date(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from flan_nb import plotting

    monkeypatch.setattr(plotting, "figures_dir", lambda chapter: tmp_path / chapter)
    path = plotting.savefig(plotting.draw_data_path(), "data_path", "00_introduction")
    committed = REPO / "figures" / "00_introduction" / "data_path.svg"
    assert path.read_bytes() == committed.read_bytes(), "regenerate figures/00_introduction"
