"""`flan-nb bench train --quick`: every figure the README reports is measured and well-formed."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from flan_nb.bench import run_benchmark
from flan_nb.errors import UserError


def test_bench_train_reports_every_figure():
    result = run_benchmark("train", quick=True)
    for key in ("tokens_per_s", "step_s", "peak_gflops", "mfu", "attention_ms",
                "unblocked_attention_ms", "attention_vs_unblocked", "load_1m"):
        assert key in result, key
    assert result["tokens_per_s"] > 0 and 0 < result["mfu"] < 1.5 and result["attention_ms"] > 0
    assert result["unblocked_attention_ms"] > 0 and result["attention_vs_unblocked"] > 0
    if importlib.util.find_spec("torch") is not None:  # the `bench` extra
        for key in ("torch_tokens_per_s", "vs_torch", "vs_torch_median", "torch_attention_ms",
                    "attention_vs_torch", "attention_vs_torch_median"):
            assert result[key] > 0, key
        for key in ("step_s_per_round", "torch_step_s_per_round"):
            assert len(result[key]) == result["rounds"] and min(result[key]) > 0, key


def test_bench_train_measures_the_named_model():
    # the book's model, briefly: its own shape and vocabulary, not the default small-5m
    result = run_benchmark("train", quick=True, model="tiny-1m")
    assert result["model"] == "tiny-1m" and 0.9e6 < result["params"] < 1.1e6


def test_bench_model_is_checked_before_anything_runs():
    with pytest.raises(UserError, match="unknown model 'huge' for bench train: choose one of"):
        run_benchmark("train", model="huge")
    with pytest.raises(UserError, match="--model applies to bench train only, not pack"):
        run_benchmark("pack", model="tiny-1m")
    proc = subprocess.run([sys.executable, "-m", "flan_nb", "bench", "train", "--model", "huge"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "unknown model 'huge'" in proc.stderr


def test_bench_train_splits_the_batch_over_one_device_per_core():
    # the benchmark must set XLA's device count before anything imports JAX (a model-name check
    # that imported flan_nb.model first once left it on one device)
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    proc = subprocess.run([sys.executable, "-m", "flan_nb", "bench", "train", "--quick",
                           "--json"], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["devices"] == (os.cpu_count() or 1)
