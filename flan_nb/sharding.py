"""Scale-out with JAX SPMD: the device mesh, parameter and batch shardings, multi-host start-up.

Data path, stage 5 of 6: tasks -> templates -> tokenize -> mixture/packing/pipeline -> model,
**sharding**, train, checkpoint -> evaluate.

The same training code runs on one CPU and on a TPU pod; only the mesh changes. The mesh has three
named axes:

- `data`: plain data parallelism (each group holds a full copy of the parameters);
- `fsdp`: data parallelism whose groups also split the parameters and optimizer state along the
  model width (fully sharded data parallel, ZeRO-3); XLA gathers a layer's weights when needed;
- `tensor`: tensor (model) parallelism, splitting heads, the MLP hidden width and the vocabulary.

Batches are split over `data` x `fsdp`. Parameters carry logical axis names (`flan_nb.model`),
mapped to mesh axes by `RULES`; a dimension that the mesh axis does not divide stays replicated.
On CPU, `XLA_FLAGS=--xla_force_host_platform_device_count=8` simulates 8 devices (set it before
JAX starts).
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any, Mapping

import numpy as np

from flan_nb.errors import UserError

MESH_AXES = ("data", "fsdp", "tensor")
BATCH_AXES = ("data", "fsdp")
# Logical parameter axis -> mesh axis.
RULES: dict[str, str | None] = {
    "vocab": "tensor",
    "embed": "fsdp",
    "heads": "tensor",
    "mlp": "tensor",
    "head_dim": None,
}


def maybe_initialize_distributed(force: bool = False) -> bool:
    """Call `jax.distributed.initialize()` when this is one process of a multi-host job.

    Multi-host is recognised from the environment (`JAX_COORDINATOR_ADDRESS`, or a TPU VM pod's
    `TPU_WORKER_HOSTNAMES` listing several hosts) or forced. Must run before any other JAX call.
    Returns whether the distributed runtime is (now) initialised.
    """
    # jax on use (cost: flan_nb/__init__): flan_nb.runs imports this module
    import jax
    from jax._src import distributed

    if distributed.global_state.client is not None:
        return True
    hosts = os.environ.get("TPU_WORKER_HOSTNAMES", "")
    multi_host = force or bool(os.environ.get("JAX_COORDINATOR_ADDRESS")) or "," in hosts
    if multi_host:
        jax.distributed.initialize()
    return multi_host


def use_all_cpu_cores(count: int | None = None) -> int | None:
    """Ask XLA for one CPU device per core (default `os.cpu_count()`), before JAX starts.

    XLA runs most of one CPU device's non-matmul work on a single thread; with one simulated
    device per core, the data axis of the mesh splits each batch over all cores (measured
    +20-50% on a 2-core machine). Only the CPU platform is affected, so it is harmless on TPU.
    Returns the device count asked for, or None when JAX had already started (nothing changes).
    """
    count = count or os.cpu_count() or 1
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" in flags:
        return int(flags.split("xla_force_host_platform_device_count=")[1].split()[0])
    if "jax" in sys.modules:
        return None
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={count}".strip()
    return count


def is_primary() -> bool:
    """True in the one process that writes logs, metrics and figures (process 0 of a multi-host
    job; the only process otherwise). Does not import JAX: `use_all_cpu_cores` must come first."""
    distributed = sys.modules.get("jax._src.distributed")  # absent: JAX not even imported
    state = getattr(distributed, "global_state", None)
    return state is None or state.client is None or state.process_id == 0


def resolve_mesh_shape(num_devices: int, data: int = -1, fsdp: int = 1,
                       tensor: int = 1) -> tuple[int, int, int]:
    """(data, fsdp, tensor) with at most one -1 replaced so that the product is num_devices."""
    check_mesh_sizes(data, fsdp, tensor)
    sizes = {"data": data, "fsdp": fsdp, "tensor": tensor}
    free = [name for name, size in sizes.items() if size == -1]
    fixed = math.prod(size for size in sizes.values() if size != -1)
    if free:
        if num_devices % fixed:
            raise UserError(f"mesh fsdp x tensor = {fixed} does not divide the {num_devices} "
                            f"devices; choose sizes whose product divides {num_devices}")
        sizes[free[0]] = num_devices // fixed
    if math.prod(sizes.values()) != num_devices:
        raise UserError(f"mesh data x fsdp x tensor = {sizes['data']} x {sizes['fsdp']} x "
                        f"{sizes['tensor']} must equal the number of devices ({num_devices})")
    return sizes["data"], sizes["fsdp"], sizes["tensor"]


def check_mesh_sizes(data: int, fsdp: int, tensor: int) -> None:
    """The notebooks' MESH_DATA, MESH_FSDP, MESH_TENSOR, checked before any device is touched."""
    sizes = (data, fsdp, tensor)
    if not (all(isinstance(n, int) and (n >= 1 or n == -1) for n in sizes)
            and sizes.count(-1) <= 1):
        raise UserError(f"MESH_DATA, MESH_FSDP, MESH_TENSOR must be positive, one of them may be "
                        f"-1 (the remaining devices); got {sizes}")


def make_mesh(data: int = -1, fsdp: int = 1, tensor: int = 1, devices=None):
    """A `jax.sharding.Mesh` over `devices` (default: all) with axes data, fsdp, tensor."""
    # jax on use (cost: flan_nb/__init__): flan_nb.runs imports this module
    import jax

    devices = list(jax.devices() if devices is None else devices)
    shape = resolve_mesh_shape(len(devices), data, fsdp, tensor)
    # Auto axes: XLA propagates shardings from parameters and batches through the model.
    auto = (jax.sharding.AxisType.Auto,) * len(MESH_AXES)
    if devices == list(jax.devices()):
        return jax.make_mesh(shape, MESH_AXES, axis_types=auto, devices=devices)
    return jax.sharding.Mesh(np.array(devices).reshape(shape), MESH_AXES, axis_types=auto)


def data_parallel_size(mesh) -> int:
    return math.prod(mesh.shape[axis] for axis in BATCH_AXES)


def check_batch_size(batch_size: int, mesh, what: str = "batch_size") -> None:
    """The batch must split evenly over the data-parallel devices."""
    n = data_parallel_size(mesh)
    if batch_size % n:
        raise UserError(
            f"{what}={batch_size} sequences cannot be split over {n} data-parallel devices "
            f"(mesh data x fsdp = {mesh.shape['data']} x {mesh.shape['fsdp']}); use a multiple "
            f"of {n}")


def spec_for(shape: tuple[int, ...], logical_axes: tuple[str | None, ...] | None, mesh,
             rules: Mapping[str, str | None] = RULES):
    """PartitionSpec for one array: each logical axis -> its mesh axis when that divides it."""
    # jax on use (cost: flan_nb/__init__): flan_nb.runs imports this module
    from jax.sharding import PartitionSpec

    if not logical_axes:
        return PartitionSpec()
    parts = []
    for dim, name in zip(shape, logical_axes):
        axis = rules.get(name) if name else None
        parts.append(axis if axis and mesh.shape[axis] > 1 and dim % mesh.shape[axis] == 0
                     else None)
    return PartitionSpec(*parts)


def param_shardings(state, mesh, rules: Mapping[str, str | None] = RULES):
    """NamedShardings for an `nnx.State` of parameters (same tree structure)."""
    # jax on use (cost: flan_nb/__init__): flan_nb.runs imports this module
    import jax
    from flax import nnx
    from jax.sharding import NamedSharding

    def one(variable):
        value = variable.get_value()
        axes = variable.get_metadata().get("logical_axes")
        return variable.replace(NamedSharding(mesh, spec_for(value.shape, axes, mesh, rules)))

    return jax.tree.map(one, state, is_leaf=lambda x: isinstance(x, nnx.Variable))


def batch_sharding(mesh):
    """(batch, length) arrays: rows split over data x fsdp, length whole."""
    # jax on use (cost: flan_nb/__init__): flan_nb.runs imports this module
    from jax.sharding import NamedSharding, PartitionSpec

    return NamedSharding(mesh, PartitionSpec(BATCH_AXES, None))


def replicated(mesh):
    # jax on use (cost: flan_nb/__init__): flan_nb.runs imports this module
    from jax.sharding import NamedSharding, PartitionSpec

    return NamedSharding(mesh, PartitionSpec())


def allgather_json(obj: Any) -> list[Any]:
    """`obj` (JSON-serialisable) from every process, in process order ([obj] on one host).

    Used for per-host data-iterator states, which differ by host and must all be checkpointed.
    """
    # jax on use (cost: flan_nb/__init__): flan_nb.runs imports this module
    import jax

    if jax.process_count() == 1:
        return [obj]
    # jax on use (cost: flan_nb/__init__): flan_nb.runs imports this module
    from jax.experimental import multihost_utils

    data = np.frombuffer(json.dumps(obj).encode(), dtype=np.uint8)
    lengths = multihost_utils.process_allgather(np.array([data.size], np.int32))
    padded = np.zeros(int(lengths.max()), np.uint8)
    padded[: data.size] = data
    gathered = multihost_utils.process_allgather(padded)
    return [json.loads(bytes(row[: int(n)]).decode())
            for row, n in zip(gathered, lengths.reshape(-1))]


def describe_mesh(mesh) -> str:
    sizes = " x ".join(f"{axis}={mesh.shape[axis]}" for axis in MESH_AXES)
    return f"mesh {sizes} over {mesh.devices.size} {mesh.devices.flat[0].platform} device(s)"
