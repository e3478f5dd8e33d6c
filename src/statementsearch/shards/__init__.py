"""A sharded index: shards built and searched side by side, locally or on a Dask cluster, answering as one
index (`ShardedIndex`; `open_index` opens either kind). See README, "Past one machine"."""

from __future__ import annotations

from .runner import ClusterError
from .sharded import AnyIndex, IndexChangingError, ShardedIndex, open_index

__all__ = ["AnyIndex", "ClusterError", "IndexChangingError", "ShardedIndex", "open_index"]
