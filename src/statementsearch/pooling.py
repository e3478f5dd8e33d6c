"""The writers' posting pool: postings gathered by term as they come, handed on a term at a time.

Whoosh's writer keeps every posting as a tuple (field, term, document, weight, value) in one list, sorts
that list when it commits (spilling sorted runs to disk past its memory limit and merging them back
posting by posting), and gives the postings one at a time to its postings writer: several Python calls
per posting, two fifths of a build (BENCHMARKS.md). Here each posting is filed under its field and term
as it comes, the *terms* are sorted at commit (a term's postings are already in the order of their
documents), and a term's postings reach the postings writer whole (`whoosh_internals` writes them a
block at a time, in C-level slices).
What is written is byte for byte what Whoosh's pool and writer write (`tests/test_pooling.py` compares
the two on the seed and on corpus releases).

Past its memory limit the pool writes its terms, sorted, to a run on disk and starts again empty; at
commit the runs and what is left in memory are merged term by term (a term's parts in the order they
came, which is the order of their documents).

A writer takes this pool through the `poolclass` argument Whoosh's `SegmentWriter` documents but
ignores (`whoosh_internals.apply_fixes` makes it honour it).
"""

from __future__ import annotations

import contextlib
import heapq
import pickle
from collections.abc import Iterator
from itertools import groupby, islice
from operator import itemgetter, lt
from typing import Any

from whoosh.util import random_name

Posting = tuple[str, bytes, int, float, "bytes | None"]
"""One posting as Whoosh's writer makes it: field name, term bytes, document, weight, value."""
Term = tuple[str, bytes, list[Posting]]
"""(field name, term bytes, its postings in order) of one term."""

POSTING_BYTES = 160
"""What a posting held by the pool costs in memory (the writer's tuple, its weight, its value and a
list slot), for the memory limit."""
TERM_BYTES = 250
"""What a new term costs the pool besides its postings (a dict slot and a list)."""


class TermPool:
    """Postings grouped by field and term, for one segment writer.

    The interface is the one Whoosh's `SegmentWriter` uses of its pool: `add`, `iter_postings`,
    `cleanup` and `fieldnames`."""

    def __init__(self, tempstore: Any, segment: Any = None, limitmb: float = 128, **_: Any) -> None:
        self.tempstore = tempstore
        self.limit = int(limitmb * 1024 * 1024)
        self.fieldnames: set[str] = set()
        self.runs: list[str] = []
        self._fields: dict[str, dict[bytes, list[Posting]]] = {}
        self._size = 0
        self._out_of_turn = False  # a posting came before (or with) one of its term already held
        self._field: str | None = None  # the field of the last posting taken, and its terms
        self._terms: dict[bytes, list[Posting]] = {}

    def add(self, item: Posting) -> None:
        """Take one posting. The writer's tuple is kept as it is (making arrays of its parts here cost
        twice as much per posting); a term's postings are cut into blocks when written."""
        if item[0] != self._field:
            self._to_field(item[0])
        postings = self._terms.get(item[1])
        if postings is None:
            self._terms[item[1]] = [item]
            self._size += TERM_BYTES + POSTING_BYTES
        else:
            if postings[-1][2] >= item[2]:
                self._out_of_turn = True
            postings.append(item)
            self._size += POSTING_BYTES
        if self._size > self.limit:
            self._spill()

    def _to_field(self, fieldname: str) -> None:
        """Postings of another field come: file them under its terms (a writer gives a document's
        postings field by field, so this is once per field of a document)."""
        self._field, self._terms = fieldname, self._fields.setdefault(fieldname, {})
        self.fieldnames.add(fieldname)

    def iter_postings(self) -> PooledPostings:
        """Every posting, in Whoosh's order; its `terms()` gives them a term at a time."""
        return PooledPostings(self)

    def terms(self) -> Iterator[Term]:
        """Every term with its postings, by field name and term bytes, each term's postings ordered by
        document (then weight and value: Whoosh's sort of whole postings)."""
        sources = [self._run_terms(name) for name in self.runs] + [self._memory_terms()]
        if len(sources) == 1:
            merged: Iterator[Term] = sources[0]
        else:
            merged = _joined(heapq.merge(*sources, key=itemgetter(0, 1)))
        # (a term's parts in several runs are not compared as they come: check them all)
        return (_in_order(term) for term in merged) if self._out_of_turn or self.runs else merged

    def cleanup(self) -> None:
        """Remove the runs on disk."""
        for name in self.runs:
            with contextlib.suppress(OSError):
                self.tempstore.delete_file(name)
        self.runs = []

    def _memory_terms(self) -> Iterator[Term]:
        fields, self._fields, self._size, self._field = self._fields, {}, 0, None
        for fieldname in sorted(fields):
            terms = fields[fieldname]
            for tbytes in sorted(terms):
                yield fieldname, tbytes, terms.pop(tbytes)

    def _spill(self) -> None:
        """Write what the pool holds, sorted by term, to a run on disk, and empty it."""
        name = f"{random_name()}.terms"
        run = self.tempstore.create_file(name)  # the file itself: a storage in memory keeps it on close
        try:
            for term in self._memory_terms():  # a pickle each: a shared memo would hold every term
                pickle.dump(term, run, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            run.close()
        self.runs.append(name)

    def _run_terms(self, name: str) -> Iterator[Term]:
        with self.tempstore.open_file(name).raw_file() as run:
            while True:
                try:
                    yield pickle.load(run)
                except EOFError:
                    return


class PooledPostings:
    """A pool's postings: an iterable of Whoosh's posting tuples (for any reader of Whoosh's interface)
    that the index's field writer reads a term at a time instead (`terms`)."""

    def __init__(self, pool: TermPool) -> None:
        self._pool = pool

    def terms(self) -> Iterator[Term]:
        return self._pool.terms()

    def __iter__(self) -> Iterator[Posting]:
        for _, _, postings in self.terms():
            yield from postings


def _joined(merged: Iterator[Term]) -> Iterator[Term]:
    """Runs merged by term: the parts of one term (one per run holding it) joined in run order."""
    for (fieldname, tbytes), parts in groupby(merged, key=itemgetter(0, 1)):
        (_, _, postings), *more = parts
        for _, _, later in more:
            postings.extend(later)
        yield fieldname, tbytes, postings


def _in_order(term: Term) -> Term:
    """A term's postings by document. A writer adds documents in ascending order, so they nearly always
    are; when a posting came out of turn, they are sorted as Whoosh sorts whole postings."""
    postings = term[2]
    if len(postings) > 1:
        docnums = list(map(itemgetter(2), postings))
        if not all(map(lt, docnums, islice(docnums, 1, None))):
            postings.sort()
    return term
