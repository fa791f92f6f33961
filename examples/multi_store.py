"""Seed 000's getting-started driver with smartflow: a single-shard store, a 3-shard cluster and a
co-located store in one experiment, and an application that uses all three.

    python examples/multi_store.py
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import anyio
import numpy as np

from smartflow import Client, Experiment

APP = Path(__file__).with_name("multi_store_app.py")


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    async with Experiment("getting-started-multidb", exp_path="smartflow-multidb") as exp:
        single = exp.create_database(db_identifier="single")
        clustered = exp.create_database(db_nodes=3, db_identifier="clustered")
        await exp.start(single, clustered)

        async with (
            Client(address=clustered.get_address()[0], cluster=True) as driver_clustered,
            Client(address=single.get_address()[0], cluster=False) as driver_single,
        ):
            await driver_clustered.put_tensor("tensor_1", np.array([1, 2, 3, 4]))
            await driver_single.put_tensor("tensor_3", np.array([9, 9]))

            settings = exp.create_run_settings(sys.executable, exe_args=str(APP))
            model = exp.create_model("tutorial_model", settings)
            model.colocate_db_tcp(db_identifier="colo")
            await exp.start(model, block=True, summary=True)

            print((Path(model.path) / "tutorial_model.out").read_text(), end="")
            found = await driver_clustered.poll_key("tensor_2", 100, 100)
            value_2 = await driver_clustered.get_tensor("tensor_2")
            print(f"The tensor is {value_2} (found: {found})")

        await exp.stop(single, clustered)
        print(exp.summary())


if __name__ == "__main__":
    anyio.run(main)
