"""A sharded index on disk: its manifest, where its shards are, and which shard holds a release.

    index/                               the folder given as --index
      statementsearch-shards.json        the manifest: shard count, routing rule, schema version, folder
      .statementsearch-writer.lock       one writer (an update of every shard) at a time
      shards.1/                          the shards of the current build
        .statementsearch-files.json      the files every shard has taken (see `shards.build`)
        shard-000/ ... shard-00N/        each a complete index (`StatementIndex`)

The manifest is written last and atomically (written beside, renamed): a folder without it is no index,
and a rebuild builds its shards in a new `shards.K` folder that the manifest names only once they are
complete. Releases are routed to shards by a stable hash of their id (CRC-32, the same in every process
and Python version), not by file, so shards stay balanced when one file holds most releases.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path

from .. import schema as schema_mod
from ..errors import IndexCorruptError, IndexMissingError, IndexWriteError
from ..index import SHARDS_FILE, StatementIndex

FORMAT = 1
ROUTING = "crc32(release id) mod shards"
MAX_SHARDS = 256
_FOLDER_PREFIX = "shards."


def shard_of(release_id: str, shards: int) -> int:
    """The shard that holds a release: a stable hash of its id."""
    return zlib.crc32(release_id.encode("utf-8", "surrogatepass")) % shards


def is_sharded(path: str | os.PathLike[str]) -> bool:
    """Does this folder hold a sharded index (its manifest)?"""
    return (Path(path) / SHARDS_FILE).is_file()


@dataclass(frozen=True)
class Layout:
    """Where the shards of a sharded index are."""

    root: Path
    shards: int
    folder: str
    """The folder of the current build's shards, inside `root`."""

    @property
    def build_dir(self) -> Path:
        return self.root / self.folder

    def shard_path(self, shard: int) -> Path:
        return self.build_dir / f"shard-{shard:03d}"

    def shard_paths(self) -> list[Path]:
        return [self.shard_path(n) for n in range(self.shards)]

    def shard_name(self, shard: int) -> str:
        """How messages name a shard."""
        return f"shard {shard} of the index at {self.root} ({self.shard_path(shard)})"

    def write(self) -> None:
        """Replace the manifest atomically (the last step of creating or rebuilding the index)."""
        data = {
            "format": FORMAT,
            "schema_version": schema_mod.SCHEMA_VERSION,
            "shards": self.shards,
            "routing": ROUTING,
            "folder": self.folder,
        }
        target = self.root / SHARDS_FILE
        temporary = target.with_name(f"{SHARDS_FILE}.{os.getpid()}.tmp")
        try:
            with open(temporary, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(data) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise IndexWriteError(f"cannot write the manifest of {self.root}: {exc.strerror or exc}") from exc


def read_layout(root: str | os.PathLike[str]) -> Layout:
    """The layout the manifest of a sharded index names (IndexMissingError when there is none)."""
    folder = Path(root)
    try:
        data = json.loads((folder / SHARDS_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexMissingError(
            f"no sharded index at {folder}: build one with `statementsearch index --shards N`"
        ) from None
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(
            f"the manifest of the sharded index at {folder} cannot be read: {exc}"
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("routing") != ROUTING:
        raise IndexCorruptError(
            f"the manifest of the sharded index at {folder} is not one this version reads"
        )
    if data.get("schema_version") != schema_mod.SCHEMA_VERSION:
        raise IndexCorruptError(
            f"sharded index at {folder} was not built by this version of statementsearch (schema "
            f"{data.get('schema_version')}, needs {schema_mod.SCHEMA_VERSION}): "
            "run `statementsearch index --rebuild`"
        )
    shards, name = data.get("shards"), data.get("folder")
    if not isinstance(shards, int) or not 1 <= shards <= MAX_SHARDS or not _is_folder_name(name):
        raise IndexCorruptError(f"the manifest of the sharded index at {folder} is damaged")
    return Layout(folder, shards, str(name))


def _is_folder_name(name: object) -> bool:
    return isinstance(name, str) and name.startswith(_FOLDER_PREFIX) and name[len(_FOLDER_PREFIX) :].isdigit()


def check_shard_count(shards: int) -> int:
    if not 1 <= shards <= MAX_SHARDS:
        raise IndexWriteError(f"--shards must be from 1 to {MAX_SHARDS} (got {shards})")
    return shards


def new_build(root: Path, shards: int) -> Layout:
    """A new, empty set of shards in a folder of its own (not yet named by the manifest)."""
    taken = [
        int(p.name[len(_FOLDER_PREFIX) :]) for p in root.glob(_FOLDER_PREFIX + "*") if _is_folder_name(p.name)
    ]
    layout = Layout(root, check_shard_count(shards), f"{_FOLDER_PREFIX}{max(taken, default=0) + 1}")
    try:
        layout.build_dir.mkdir(parents=True)
    except OSError as exc:
        raise IndexWriteError(f"cannot create shards in {root}: {exc.strerror or exc}") from exc
    for path in layout.shard_paths():
        StatementIndex.create(path).close()
    return layout


def sweep_builds(layout: Layout) -> None:
    """Remove the shard folders the manifest does not name: a replaced build, or one a killed rebuild
    left half-made (call it under the writer lock)."""
    for path in layout.root.glob(_FOLDER_PREFIX + "*"):
        if path.name != layout.folder and _is_folder_name(path.name) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
    for leftover in layout.root.glob(f"{SHARDS_FILE}.*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def check_creatable(root: Path) -> None:
    """Refuse to make a sharded index where an index or other files already are."""
    if StatementIndex.exists(root):
        raise IndexWriteError(
            f"an index that is not sharded exists at {root}: build the sharded one in another folder"
        )
    if not root.exists():
        return
    if not root.is_dir():
        raise IndexWriteError(f"cannot create an index at {root}: it is a file")
    foreign = [p.name for p in root.iterdir() if not p.name.startswith((".", _FOLDER_PREFIX, SHARDS_FILE))]
    if foreign:
        examples = ", ".join(sorted(foreign)[:3])
        raise IndexWriteError(f"cannot create an index at {root}: the folder holds other files ({examples})")
