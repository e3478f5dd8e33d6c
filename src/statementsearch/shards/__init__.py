"""A sharded index: shards built and searched side by side, locally or on a Dask cluster, answering as one
index (`ShardedIndex`; `open_index` opens either kind). See README, "Past one machine".

Its names are imported on first use: a command on an unsharded index asks only `layout.is_sharded`, and
the rest (the build's first pass, the process pools) is a fifth of a search's start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runner import ClusterError
    from .sharded import AnyIndex, IndexChangingError, ShardedIndex, open_index

__all__ = ["AnyIndex", "ClusterError", "IndexChangingError", "ShardedIndex", "open_index"]


def __getattr__(name: str) -> Any:
    if name == "ClusterError":
        from . import runner

        return runner.ClusterError
    if name in __all__:
        from . import sharded

        return getattr(sharded, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
