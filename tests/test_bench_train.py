"""`flan-nb bench train --quick`: every figure the README reports is measured and well-formed."""

from __future__ import annotations

import importlib.util

from flan_nb.bench import run_benchmark


def test_bench_train_reports_every_figure():
    result = run_benchmark("train", quick=True)
    for key in ("tokens_per_s", "step_s", "peak_gflops", "mfu", "attention_ms", "load_1m"):
        assert key in result, key
    assert result["tokens_per_s"] > 0 and 0 < result["mfu"] < 1.5 and result["attention_ms"] > 0
    if importlib.util.find_spec("torch") is not None:  # the `bench` extra
        for key in ("torch_tokens_per_s", "vs_torch", "vs_torch_median", "torch_attention_ms",
                    "attention_vs_torch", "attention_vs_torch_median"):
            assert result[key] > 0, key
