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

from smartflow import SyncClient


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, required=True)
    steps = parser.parse_args().steps
    field = np.zeros(8)
    for step in range(steps):
        field += np.linspace(0.0, 1.0, 8) * (step + 1)
    with SyncClient() as client:
        client.put_tensor("field", field)
    print(f"{os.environ['SSKEYOUT']}: {steps} steps done")


if __name__ == "__main__":
    main()
