"""Mesh and shardings: axis arithmetic, parameter specs, and a sharded step on 8 simulated CPU
devices that equals the single-device step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flan_nb import sharding
from flan_nb.errors import UserError

REPO = Path(__file__).resolve().parent.parent


def test_resolve_mesh_shape():
    assert sharding.resolve_mesh_shape(8) == (8, 1, 1)
    assert sharding.resolve_mesh_shape(8, fsdp=2, tensor=2) == (2, 2, 2)
    assert sharding.resolve_mesh_shape(8, data=1, fsdp=-1) == (1, 8, 1)
    with pytest.raises(UserError, match="does not divide the 8 devices"):
        sharding.resolve_mesh_shape(8, tensor=3)
    with pytest.raises(UserError, match="must equal the number of devices"):
        sharding.resolve_mesh_shape(8, data=2, fsdp=2, tensor=1)
    with pytest.raises(UserError, match="one of them may be -1"):
        sharding.resolve_mesh_shape(8, data=-1, fsdp=-1)


class FakeMesh:
    shape = {"data": 2, "fsdp": 2, "tensor": 4}


def test_spec_for_maps_logical_axes_and_replicates_what_does_not_divide():
    from jax.sharding import PartitionSpec as P

    mesh = FakeMesh()
    assert sharding.spec_for((64, 128), ("embed", "mlp"), mesh) == P("fsdp", "tensor")
    assert sharding.spec_for((64, 8, 16), ("embed", "heads", "head_dim"), mesh) == P(
        "fsdp", "tensor", None)
    assert sharding.spec_for((1001, 64), ("vocab", "embed"), mesh) == P(None, "fsdp")
    assert sharding.spec_for((3,), None, mesh) == P()


# Runs with 8 simulated CPU devices (the flag must be set before JAX starts, hence a subprocess).
SCRIPT = textwrap.dedent("""
    import json
    import jax, numpy as np
    from flan_nb import model as model_lib, sharding, train
    from flan_nb.errors import UserError
    from flan_nb.pipeline import LMPipeline

    assert len(jax.devices()) == 8
    rng = np.random.RandomState(0)
    docs = [list(rng.randint(3, 64, rng.randint(5, 40))) for _ in range(40)]
    batches = LMPipeline(docs, seq_length=32, batch_size=8, seed=0).take(2)
    model = model_lib.named_config("test", vocab_size=64, d_model=32, num_heads=4)
    config = train.TrainConfig(batch_tokens=8 * 32, seq_length=32, learning_rate=1e-2)
    out = {}
    for name, mesh in [("one", sharding.make_mesh(devices=jax.devices()[:1])),
                       ("dp8", sharding.make_mesh()),
                       ("mixed", sharding.make_mesh(data=2, fsdp=2, tensor=2))]:
        trainer = train.Trainer(model, config, mesh=mesh, progress=False)
        losses = [float(trainer.train_step(b)["loss"]) for b in batches]
        params = [np.asarray(x).ravel() for x in jax.tree.leaves(trainer.params)]
        specs = {str(x.sharding.spec) for x in jax.tree.leaves(trainer.params)}
        out[name] = {"losses": losses, "params": np.concatenate(params).tolist(),
                     "specs": sorted(specs)}
    try:
        train.Trainer(model, train.TrainConfig(batch_tokens=6 * 32, seq_length=32),
                      progress=False)
    except UserError as err:
        out["error"] = str(err)
    print("RESULT" + json.dumps(out))
""")


@pytest.fixture(scope="module")
def eight_devices():
    env = {**os.environ, "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=8"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, env=env, text=True,
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def test_sharded_step_equals_single_device_step(eight_devices):
    """Two updates on 8 devices (pure data parallel, and data x fsdp x tensor = 2 x 2 x 2)
    match one device to float32 reduction-order noise: losses to 1e-5 relative, parameters to
    1e-5 absolute (they are O(0.1-1))."""
    import numpy as np

    one = eight_devices["one"]
    for name in ("dp8", "mixed"):
        np.testing.assert_allclose(eight_devices[name]["losses"], one["losses"], rtol=1e-5)
        np.testing.assert_allclose(eight_devices[name]["params"], one["params"], atol=1e-5)
    specs = eight_devices["mixed"]["specs"]
    assert any("fsdp" in s and "tensor" in s for s in specs)  # really sharded both ways


def test_batch_not_divisible_by_devices_fails_before_compiling(eight_devices):
    assert "batch size per microbatch" in eight_devices["error"]
    assert "6 sequences cannot be split over 8 data-parallel devices" in eight_devices["error"]
