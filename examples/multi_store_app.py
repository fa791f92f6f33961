"""The application of examples/multi_store.py (seed 000, "Multiple Orchestrators").

It reads the tensor the driver put in the clustered store, writes one back, and uses its own
co-located store for scratch data: three stores, found through the environment contract
(SSDB_<id>, SR_DB_TYPE_<id>, SSDB_PASSWORD_<id>) with `db_identifier`.
"""

from __future__ import annotations

import numpy as np

from smartflow import SyncClient

with SyncClient(db_identifier="clustered") as clustered:
    value_1 = clustered.get_tensor("tensor_1")
    print(f"The clustered db tensor is: {value_1}", flush=True)
    clustered.put_tensor("tensor_2", np.array([5, 6, 7, 8]))

with SyncClient(db_identifier="single") as single:
    print(f"The single-shard db tensor is: {single.get_tensor('tensor_3')}", flush=True)

with SyncClient(db_identifier="colo") as colo:
    colo.put_tensor("scratch", value_1 * 10)
    print(f"The colocated db tensor is: {colo.get_tensor('scratch')}", flush=True)
