"""One ensemble member: reads its parameter, computes, and writes a tensor to the store.

smartflow launches it with SSDB / SR_DB_TYPE / SSDB_PASSWORD set, so ``SyncClient()`` with no
arguments connects; ``SSKEYOUT`` is the member's own name (key prefixing is on for ensembles), so
``put_tensor("field", ...)`` stores ``<member>.field``: every member writes the same name and
nothing collides.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from smartflow import DataSet, SyncClient


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, required=True)
    steps = parser.parse_args().steps
    field = np.zeros(8)
    for step in range(steps):
        field += np.linspace(0.0, 1.0, 8) * (step + 1)
    with SyncClient() as client:
        client.put_tensor("field", field)
        # A dataset (prefixed: every member may use the name "result") referenced from one list
        # that all members share (list prefixing off), for the driver to gather in one call.
        result = DataSet("result")
        result.add_tensor("field", field)
        result.add_meta_scalar("steps", steps)
        client.put_dataset(result)
        client.use_list_ensemble_prefix(False)
        client.append_to_list("results", result)
    print(f"{os.environ['SSKEYOUT']}: {steps} steps done")


if __name__ == "__main__":
    main()
