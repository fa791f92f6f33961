"""Seed 000/001's co-located model with smartflow: the application gets its own store on its
host, started just before it and stopped when it ends.

    python examples/colocated.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio

from smartflow import Experiment

APP = """
import numpy as np
from smartflow import SyncClient

with SyncClient() as colo_client:  # SSDB points at the co-located store
    colo_client.put_tensor("tensor_1", np.array([1, 2, 3, 4]))
    print(f"The colocated db tensor is: {colo_client.get_tensor('tensor_1')}")
"""


async def main() -> None:
    async with Experiment("colocated", exp_path="smartflow-colocated") as exp:
        settings = exp.create_run_settings(exe=sys.executable, exe_args=["-c", APP])
        settings.set_nodes(1)
        model = exp.create_model("colo_model", settings)
        model.colocate_db_uds()  # or model.colocate_db_tcp()
        await exp.start(model, block=True, summary=True)
        print((Path(model.path) / "colo_model.out").read_text(), end="")
        print(exp.summary())


if __name__ == "__main__":
    anyio.run(main)
