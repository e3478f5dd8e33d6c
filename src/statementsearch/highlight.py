"""Snippets with highlighted matches, and the forms they are shown in (ANSI, [brackets], HTML, spans).

Whoosh's highlighter re-analyses each hit's whole body (a third of plain Whoosh's query time here). We
don't: a Porter stem is a prefix of its word but for its last one or two letters, so one compiled regex
finds every word that *could* stem to a query term, at C speed, and only those few candidates are
analysed to confirm. The result is the same set of matches as re-analysing, for a fraction of the work.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .analysis import TOKEN_PATTERN, term_for

SNIPPET_CHARS = 200
MAX_FRAGMENTS = 2
# Windows tried around the first matches; later ones rarely beat them and cost time on long bodies.
MAX_CANDIDATE_WINDOWS = 50
FRAGMENT_SEPARATOR = " … "

Span = tuple[int, int]


@dataclass(frozen=True)
class Snippet:
    text: str
    spans: tuple[Span, ...]


class TermMatcher:
    """Finds the words of a text whose index term is one of a query's terms."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms = frozenset(terms)
        prefixes = sorted({_candidate_prefix(t) for t in self.terms if t}, key=len, reverse=True)
        self.prefixes = tuple(prefix.lower() for prefix in prefixes)
        self.pattern = (
            re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, prefixes)) + r")", re.IGNORECASE)
            if prefixes
            else None
        )

    def spans(self, text: str) -> list[Span]:
        """[start, end) of each matching word in `text`, in order."""
        if self.pattern is None:
            return []
        found: list[Span] = []
        last_end = -1
        for start in self._candidates(text):
            if start < last_end:
                continue
            word = TOKEN_PATTERN.match(text, start)
            if word is None:
                continue
            last_end = word.end()
            if term_for(word.group().lower()) in self.terms:
                found.append((start, word.end()))
        return found

    def _candidates(self, text: str) -> Iterable[int]:
        """Where a word starting with one of the prefixes starts, in order: for ASCII text (nearly
        every release) by `str.find` in the lowered text, ~3x the regex's speed on a release; else
        the regex (its case-insensitive match and word boundary for any script)."""
        assert self.pattern is not None
        if not text.isascii():
            return (candidate.start() for candidate in self.pattern.finditer(text))
        lowered, starts = text.lower(), set()
        for prefix in self.prefixes:
            at = lowered.find(prefix)
            while at != -1:
                if not at or not _is_word_char(lowered[at - 1]):
                    starts.add(at)
                at = lowered.find(prefix, at + 1)
        return sorted(starts)


def _is_word_char(char: str) -> bool:
    r"""What `\w` matches, for an ASCII character."""
    return char.isalnum() or char == "_"


def _candidate_prefix(term: str) -> str:
    # Porter changes at most the last letters of a stem (y->i, an added e, "bility" -> "bl"): the word
    # always starts with the stem less its last two letters.
    keep = len(term) - 2 if len(term) > 4 else max(len(term) - 1, 1)
    return term[:keep]


def normalise_space(text: str) -> str:
    """Runs of whitespace as one space, ends trimmed (`str.split` does it at C speed, ~4x a regex)."""
    return " ".join(text.split())


def make_snippet(text: str, matcher: TermMatcher, width: int = SNIPPET_CHARS) -> Snippet:
    """The best one or two fragments of about `width` characters, cut at word boundaries."""
    flat = normalise_space(text)
    spans = matcher.spans(flat)
    if not spans:
        return Snippet(_cut(flat, 0, width), ())
    fragments = _best_windows(flat, spans, width)
    parts: list[str] = []
    out_spans: list[Span] = []
    offset = 0
    for start, end in fragments:
        if parts:
            offset += len(FRAGMENT_SEPARATOR)
        piece = flat[start:end]
        out_spans.extend(
            (s - start + offset, e - start + offset) for s, e in spans if s >= start and e <= end
        )
        parts.append(piece)
        offset += len(piece)
    prefix = "… " if fragments[0][0] > 0 else ""
    suffix = " …" if fragments[-1][1] < len(flat) else ""
    shift = len(prefix)
    return Snippet(
        prefix + FRAGMENT_SEPARATOR.join(parts) + suffix,
        tuple((s + shift, e + shift) for s, e in out_spans),
    )


def _cut(flat: str, start: int, width: int) -> str:
    if len(flat) <= width:
        return flat
    end = flat.rfind(" ", start, start + width)
    return flat[start : end if end > start else start + width] + " …"


def _window_around(flat: str, first: int, width: int) -> tuple[int, int]:
    """A word-aligned window of about `width` characters that starts a little before `first`."""
    start = max(0, first - width // 4)
    if start > 0:
        space = flat.find(" ", start, first)
        start = space + 1 if space != -1 else first
    end = min(len(flat), start + width)
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        if space > start:
            end = space
    return start, end


def _best_windows(flat: str, spans: list[Span], width: int) -> list[tuple[int, int]]:
    """Pick up to MAX_FRAGMENTS windows covering the most distinct matched words, in text order."""
    starts = [s for s, _ in spans]
    matched = [flat[s:e].lower() for s, e in spans]

    def inside(window: tuple[int, int]) -> tuple[int, int]:
        first = bisect_left(starts, window[0])
        last = first
        while last < len(spans) and spans[last][1] <= window[1]:
            last += 1
        return first, last

    def score(window: tuple[int, int]) -> tuple[int, int, int]:
        first, last = inside(window)
        return len(set(matched[first:last])), last - first, -window[0]

    candidates = [_window_around(flat, s, width) for s in starts[:MAX_CANDIDATE_WINDOWS]]
    best = max(candidates, key=score)
    first, last = inside(best)
    seen = set(matched[first:last])
    missing = [start for start, word in zip(starts, matched, strict=True) if word not in seen]
    if not missing or MAX_FRAGMENTS < 2:
        return [best]
    # A second fragment for words the first one lacks: both shrink to share the width.
    half = width // MAX_FRAGMENTS
    one = _window_around(flat, starts[first], half)
    two = _window_around(flat, missing[0], half)
    if two[0] < one[1] and one[0] < two[1]:
        return [best]
    return sorted([one, two])


# ---------------------------------------------------------------------------------------------- renderers


def render_brackets(text: str, spans: Iterable[Span]) -> str:
    return _render(text, spans, lambda s: f"[{s}]", lambda s: s)


def render_ansi(text: str, spans: Iterable[Span]) -> str:
    return _render(text, spans, lambda s: f"\x1b[1;33m{s}\x1b[0m", lambda s: s)


def render_html(text: str, spans: Iterable[Span]) -> str:
    return _render(text, spans, lambda s: f"<mark>{html.escape(s)}</mark>", html.escape)


def _render(text: str, spans: Iterable[Span], mark: Callable[[str], str], plain: Callable[[str], str]) -> str:
    out: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        out.append(plain(text[pos:start]))
        out.append(mark(text[start:end]))
        pos = end
    out.append(plain(text[pos:]))
    return "".join(out)
