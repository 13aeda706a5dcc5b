"""Small helpers every notebook calls at the top: the environment report and the run handle."""

from __future__ import annotations

import os
import platform


def environment_report() -> dict[str, str]:
    """Python, package versions and JAX devices, printed at the top of every chapter."""
    import flax
    import jax
    import optax

    import flan_nb

    devices = jax.devices()
    info = {
        "python": platform.python_version(),
        "flan_nb": flan_nb.__version__,
        "jax": jax.__version__,
        "flax": flax.__version__,
        "optax": optax.__version__,
        "backend": jax.default_backend(),
        "devices": f"{len(devices)} x {devices[0].device_kind}",
        "cpu_count": str(os.cpu_count()),
    }
    for key, value in info.items():
        print(f"{key:>9}: {value}")
    return info
