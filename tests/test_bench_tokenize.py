"""`flan-nb bench tokenize --json`: one JSON object with the figures the README reports."""

import json
import subprocess
import sys


def test_bench_tokenize_prints_one_json_object():
    out = subprocess.run([sys.executable, "-m", "flan_nb", "bench", "tokenize", "--json",
                          "--quick"], capture_output=True, text=True, check=True).stdout
    result = json.loads(out)
    for key in ("ours_mb_per_s", "sentencepiece_mb_per_s", "ours_chars_per_token",
                "sentencepiece_chars_per_token"):
        assert result[key] > 0, key
    ratio = result["ours_mb_per_s"] / result["sentencepiece_mb_per_s"]
    assert abs(result["ours_over_sentencepiece_speed"] - ratio) < 0.01


def test_unknown_benchmark_is_a_usage_error():
    proc = subprocess.run([sys.executable, "-m", "flan_nb", "bench", "nope"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
