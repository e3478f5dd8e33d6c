"""The command line: parse arguments, call `StatementIndex` or the reader, print.

Exit codes follow grep: 0 found / all went in, 1 nothing found / some files unreadable, 2 usage error or
an error the user can fix (message on stderr, no traceback). Machine output (`--json`) is one JSON object
per line on stdout and nothing else; messages go to stderr. Heavy modules are imported inside the
commands, so `statementsearch search` starts fast.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from .index import StatementIndex
    from .models import Hit, SearchResult, UpdateSummary
    from .shards import AnyIndex, ShardedIndex

PROG = "statementsearch"


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"{PROG}: {message}", err=True)
    sys.exit(code)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn the library's user-facing errors into one line on stderr and exit 2."""
    from .errors import StatementSearchError

    try:
        yield
    except StatementSearchError as exc:
        _fail(str(exc))


SCHEDULER_KEY = "statementsearch.scheduler"


class Locations:
    """Where the index and the documents are, and the Dask scheduler that serves a sharded index (from
    `--scheduler` of the running command, when it has one)."""

    def __init__(self, index: str, documents: str, scheduler: str | None = None) -> None:
        self.index = Path(index)
        self.documents = Path(documents)
        context = click.get_current_context(silent=True)
        self.scheduler = scheduler or (context.meta.get(SCHEDULER_KEY) if context is not None else None)


def _remember_scheduler(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    ctx.meta[SCHEDULER_KEY] = value or None
    return value


def location_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--index / --documents on every command, from the environment when not given."""
    func = click.option(
        "--documents",
        "documents",
        envvar="STATEMENTSEARCH_DOCUMENTS",
        default="./documents",
        show_default=True,
        type=click.Path(file_okay=False),
        help="Folder of release files [env: STATEMENTSEARCH_DOCUMENTS].",
    )(func)
    func = click.option(
        "--scheduler",
        envvar="STATEMENTSEARCH_SCHEDULER",
        metavar="tcp://HOST:PORT",
        expose_value=False,
        callback=_remember_scheduler,
        help="Dask scheduler whose workers build and search a sharded index (none: local processes) "
        "[env: STATEMENTSEARCH_SCHEDULER].",
    )(func)
    func = click.option(
        "--index",
        "index",
        envvar="STATEMENTSEARCH_INDEX",
        default="./index",
        show_default=True,
        type=click.Path(file_okay=False),
        help="Index folder [env: STATEMENTSEARCH_INDEX].",
    )(func)
    return func


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON Lines (one object a line).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="statementsearch", prog_name=PROG)
def main() -> None:
    """Full-text search over official statements (press releases).

    Put release files in ./documents (or --documents), then search: the index is built on first use.
    """


# ---------------------------------------------------------------------------------------------- parse


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@location_options
@json_option
def parse(paths: tuple[Path, ...], index: str, documents: str, as_json: bool) -> None:
    """Show how files (or folders) are split into releases, to check an archive is read right.

    Ids are the ones the index gives: relative to the documents folder (--documents).
    """
    from .reader import document_name, is_inside, read_paths

    folder = Path(documents)
    for path in paths:
        if not is_inside(path, folder):
            click.echo(
                f"{PROG}: warning: {document_name(path)} is outside the documents folder {folder}: "
                "its ids are relative to the path given, not the ones the index gives (see --documents)",
                err=True,
            )
    failed = False
    for report in read_paths(paths, folder):
        for warning in report.warnings:
            click.echo(f"{PROG}: {report.path}: warning: {warning}", err=True)
        if report.error is not None:
            click.echo(f"{PROG}: {report.path}: {report.error}", err=True)
            failed = True
            continue
        for release in report.releases:
            if as_json:
                click.echo(json.dumps(release.to_dict(), ensure_ascii=False))
            else:
                date = release.date.isoformat() if release.date else "(no date)"
                click.echo(f"{release.id}\t{date}\t{release.issuer or '(no issuer)'}")
                click.echo(f"    {release.title or '(no title)'}")
                paragraphs = release.body.count("\n\n") + 1
                click.echo(f"    {plural(len(release.body), 'character')}, {plural(paragraphs, 'paragraph')}")
    sys.exit(1 if failed else 0)


# ---------------------------------------------------------------------------------------------- index


def _progress_printer(enabled: bool) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A click progress bar on a terminal; nothing when stderr is not one."""
    if not enabled:
        return None, lambda: None
    state: dict[str, Any] = {}

    def progress(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = click.progressbar(length=max(total, 1), label="indexing", file=sys.stderr, show_pos=False)
            bar.__enter__()
            state["bar"] = bar
            state["done"] = 0
        bar.update(done - state["done"])
        state["done"] = done

    def finish() -> None:
        bar = state.get("bar")
        if bar is not None:
            bar.__exit__(None, None, None)

    return progress, finish


def _run_update(
    ix: AnyIndex, documents: Path, *, rebuild: bool, wait: float, procs: int, shards: int | None = None
) -> UpdateSummary:
    from .shards import ShardedIndex

    show_bar = sys.stderr.isatty()
    progress, finish = _progress_printer(show_bar)

    def notice(message: str) -> None:
        click.echo(f"{PROG}: {message}", err=True)

    try:
        if isinstance(ix, ShardedIndex):
            return ix.update(
                documents, progress=progress, wait=wait, notice=notice, rebuild=rebuild, shards=shards
            )
        return ix.update(documents, progress=progress, procs=procs, wait=wait, notice=notice, rebuild=rebuild)
    finally:
        finish()


def _report_failures(summary: UpdateSummary, verbose: bool) -> None:
    """Name each file that failed anew (every one, when `verbose`); count those that fail as before."""
    for failure in summary.failures:
        if verbose or not failure.repeated:
            click.echo(f"{PROG}: {failure.path}: {failure.reason}", err=True)
    repeated = sum(failure.repeated for failure in summary.failures)
    if repeated and not verbose:
        click.echo(
            f"{PROG}: {plural(repeated, 'file')} still unreadable, unchanged since the last update "
            "(`statementsearch stats` lists them, as does `statementsearch index --verbose`)",
            err=True,
        )


def _default_procs() -> int:
    return min(2, os.cpu_count() or 1)


def open_index(locations: Locations, *, build_if_missing: bool = True) -> AnyIndex:
    """Open the index (sharded or not); when there is none, build it from the documents folder first
    (saying so)."""
    from .index import StatementIndex
    from .shards.layout import is_sharded

    if is_sharded(locations.index):
        return _open_sharded(locations)
    if StatementIndex.exists(locations.index) or not build_if_missing:
        return StatementIndex.open(locations.index)
    _require_documents(locations)
    click.echo(
        f"{PROG}: no index at {locations.index}: building it from {locations.documents} first", err=True
    )
    with _removed_on_failure(locations.index):
        ix = StatementIndex.open(locations.index, create=True)
        try:
            summary = _run_update(ix, locations.documents, rebuild=False, wait=0.0, procs=_default_procs())
        except BaseException:
            ix.close()
            raise
    _report_failures(summary, verbose=False)
    click.echo(f"{PROG}: {_summary_line(summary)}", err=True)
    return ix


def _open_sharded(locations: Locations, procs: int = 1) -> ShardedIndex:
    """A sharded index, through the scheduler of `--scheduler` when given."""
    from .shards import ShardedIndex

    if locations.scheduler:
        _quiet_cluster_logs()
    return ShardedIndex.open(locations.index, scheduler=locations.scheduler, procs=procs)


def _quiet_cluster_logs() -> None:
    """Dask logs what it retries (a lost worker, say) on stderr; the command says what matters."""
    import logging

    try:
        import distributed  # noqa: F401  (its import sets its loggers' levels: set them after)
    except ImportError:
        return
    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _require_documents(locations: Locations) -> None:
    """Refuse before anything is created: a command that fails must leave nothing behind."""
    from .errors import IndexWriteError

    if not locations.documents.is_dir():
        raise IndexWriteError(f"documents folder {locations.documents} does not exist or is not a folder")


@contextmanager
def _removed_on_failure(folder: Path) -> Iterator[None]:
    """Remove an index folder this command created when the command fails before it is built."""
    import shutil

    existed = folder.exists()
    try:
        yield
    except BaseException:
        if not existed:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _summary_line(summary: UpdateSummary) -> str:
    return (
        f"{summary.added:,} added, {summary.changed:,} changed, {summary.removed:,} removed, "
        f"{summary.unchanged:,} unchanged, {plural(summary.failed, 'failed file')}; "
        f"{plural(summary.releases_written, 'release')} written in {summary.seconds:.1f} s"
    )


verbose_option = click.option(
    "--verbose", "-v", is_flag=True, help="Name every file that failed, also those that failed as before."
)


@main.command("index")
@click.option("--rebuild", is_flag=True, help="Index every file anew (the old index serves until done).")
@click.option(
    "--shards",
    type=click.IntRange(min=1, max=256),
    default=None,
    help="Make a sharded index of N shards (with --rebuild: change an index's count).",
)
@click.option("--wait", type=click.FloatRange(min=0), default=0.0, help="Seconds to wait for another writer.")
@click.option(
    "--procs",
    type=click.IntRange(min=1, max=64),
    default=None,
    help="Worker processes for large builds [default: up to 2 cores].",
)
@verbose_option
@location_options
@json_option
def index_command(
    rebuild: bool,
    shards: int | None,
    wait: float,
    procs: int | None,
    verbose: bool,
    index: str,
    documents: str,
    as_json: bool,
) -> None:
    """Build the index, or bring it up to date with the documents folder (only changed files are read).

    With --shards N, a sharded index: N shards built side by side by local processes, or by the
    workers of a Dask scheduler (--scheduler); later runs update it."""
    import dataclasses

    from .index import StatementIndex
    from .shards import ShardedIndex

    locations = Locations(index, documents)
    procs = procs or _default_procs()
    ix: AnyIndex
    with _user_errors():
        _require_documents(locations)
        if shards is not None or ShardedIndex.exists(locations.index):
            ix = _sharded_to_update(locations, shards, procs)
        elif rebuild and StatementIndex.exists(locations.index):
            ix = _open_for_rebuild(locations.index)
        else:
            ix = StatementIndex.open(locations.index, create=True)
        with ix:
            summary = _run_update(
                ix, locations.documents, rebuild=rebuild, wait=wait, procs=procs, shards=shards
            )
    _report_failures(summary, verbose)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(summary), ensure_ascii=False))
    else:
        click.echo(_summary_line(summary))
    sys.exit(1 if summary.failed else 0)


def _sharded_to_update(locations: Locations, shards: int | None, procs: int) -> ShardedIndex:
    """The sharded index to build or update (a new one of `shards` shards when there is none)."""
    from .errors import IndexWriteError
    from .index import StatementIndex
    from .shards import ShardedIndex

    if ShardedIndex.exists(locations.index):
        return _open_sharded(locations, procs)
    if StatementIndex.exists(locations.index):
        raise IndexWriteError(
            f"the index at {locations.index} is not sharded: build a sharded one in another folder (--index)"
        )
    if locations.scheduler:
        _quiet_cluster_logs()
    return ShardedIndex.create(
        locations.index, shards=shards or 1, scheduler=locations.scheduler, procs=procs
    )


def _open_for_rebuild(path: Path) -> StatementIndex:
    """An index to rebuild: the existing one, or a fresh one when it was built by another version."""
    from .errors import IndexCorruptError
    from .index import StatementIndex

    try:
        return StatementIndex.open(path)
    except IndexCorruptError as exc:
        click.echo(f"{PROG}: {exc}; recreating it", err=True)
        return StatementIndex.create(path, overwrite=True)


# ---------------------------------------------------------------------------------------------- search


def _use_color(no_color: bool) -> bool:
    return not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 release', '2 releases', '1,204 releases'."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def _print_hit(hit: Hit, color: bool) -> None:
    from .highlight import render_ansi, render_brackets

    render = render_ansi if color else render_brackets
    title = render(hit.title, hit.title_highlights) if hit.title else "(no title)"
    click.echo(f"{hit.rank}. {click.style(title, bold=True) if color else title}")
    meta = " · ".join(part for part in (hit.issuer, hit.date or "no date", hit.id) if part)
    click.echo(f"   {click.style(meta, dim=True) if color else meta}")
    if hit.snippet:
        click.echo(f"   {render(hit.snippet, hit.highlights)}")
    if hit.missing:
        click.echo(f"   without: {', '.join(hit.missing)}")
    if hit.duplicates:
        _print_duplicates(hit)


def _print_duplicates(hit: Hit, shown: int = 3) -> None:
    """ "also issued as N others", each by issuer and date, with its headline where it differs."""
    parts = []
    for other in hit.duplicates[:shown]:
        part = f"{other.issuer or '?'} {other.date or ''}".strip()
        if other.title and other.title != hit.title:
            part += f' ("{other.title}")'
        parts.append(part)
    more = f" and {len(hit.duplicates) - shown} more" if len(hit.duplicates) > shown else ""
    others = plural(len(hit.duplicates), "other")
    click.echo(f"   also issued as {others}: {'; '.join(parts)}{more}")


def _print_result(result: SearchResult, as_json: bool, no_color: bool, all_issuers: bool = False) -> None:
    """Hits as JSON Lines (summary on stderr) or for people (summary last, on stdout)."""
    if as_json:
        for hit in result.hits:
            click.echo(json.dumps(hit.to_dict(), ensure_ascii=False))
        if all_issuers:
            click.echo(json.dumps(_facets_json(result), ensure_ascii=False))
        click.echo(_summary(result, all_issuers), err=True)
        return
    color = _use_color(no_color)
    for hit in result.hits:
        _print_hit(hit, color)
    click.echo(_summary(result, all_issuers))


def _facets_json(result: SearchResult) -> dict[str, Any]:
    """The one object `search --json --facets` writes after the hits: it has no "rank" key."""
    return {
        "facets": {"issuers": [{"issuer": f.issuer, "count": f.count} for f in result.issuers]},
        "total": result.total,
        "releases": result.releases,
    }


def _summary(result: SearchResult, all_issuers: bool = False) -> str:
    shown = f"{result.offset + 1}-{result.offset + len(result.hits)} of " if result.hits else ""
    line = f"{shown}{plural(result.total, 'result')}"
    if result.releases != result.total:
        line += f" ({plural(result.releases, 'release')} with re-issues)"
    line += f" in {result.seconds * 1000:.0f} ms"
    lines = [line]
    if result.relaxed:
        lines.append(_relaxed_line(result))
    elif result.min_words and result.min_words < len(result.words):
        lines.append(f"read as: {result.reading}")
    lines.extend(f"note: {note}" for note in result.notes)
    if result.issuers:
        listed = result.issuers if all_issuers else result.issuers[:5]
        top = ", ".join(f"{f.issuer} ({f.count:,})" for f in listed)
        rest = len(result.issuers) - len(listed)
        more = f", +{plural(rest, 'more issuer')} (--facets lists them all)" if rest else ""
        lines.append(f"issuers: {top}{more}")
    return "\n".join(lines)


def _relaxed_line(result: SearchResult) -> str:
    """What a relaxed query dropped: the words no hit holds, or how many words the hits hold now."""
    from .query import min_words_for

    count = len(result.words)
    wanted = min_words_for(count)
    missing = ", ".join(result.relaxed)
    lacked = "all the words" if wanted == count else f"{wanted} of the {count} words"
    if len(result.relaxed) == count - result.min_words:  # every hit lacks exactly these
        return f"no release has {lacked}; showing releases without: {missing}"
    held = result.min_words
    return f"no release has {lacked}; showing releases with {held} of them (each lacks some of: {missing})"


def _search_notices(result: SearchResult) -> None:
    """What is said on stderr whatever the output format: relaxed words and suggestions."""
    if result.relaxed:
        click.echo(f"{PROG}: {_relaxed_line(result)}", err=True)
    if result.suggestion:
        click.echo(f"did you mean: {result.suggestion}", err=True)
    if result.phrase:
        click.echo(f"as a phrase: {PROG} search '{result.phrase}'", err=True)


def _page_past_the_end(result: SearchResult, page: int) -> None:
    last = max(1, -(-result.total // result.limit))
    click.echo(
        f"{PROG}: page {page:,} is past the last page ({last:,}: {plural(result.total, 'result')}, "
        f"{result.limit} a page)",
        err=True,
    )


@main.command()
@click.argument("query", nargs=-1, required=True)
@click.option(
    "--issuer",
    multiple=True,
    help="Only releases of this issuer: its name's start, or all of its words (repeat: any of them).",
)
@click.option("--since", help='From this date: 2020-01-31, "Jan 2020", 2020, "30 days ago", 30d.')
@click.option("--until", help="Through this date (a partial date means its whole period).")
@click.option(
    "--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True
)
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True, help="Hits per page.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--no-collapse", is_flag=True, help="Show every near-duplicate release, not one per group.")
@click.option("--no-color", is_flag=True, help="No ANSI colour (also: NO_COLOR in the environment).")
@click.option("--fill", is_flag=True, help="Go on past the matches with releases holding some of the words.")
@click.option("--facets", is_flag=True, help="All issuer counts (--json: one facets object after the hits).")
@click.option("--timeline", is_flag=True, help="Matching releases per month (per year over 10+ years).")
@location_options
@json_option
@click.pass_context
def search(
    ctx: click.Context,
    query: tuple[str, ...],
    issuer: tuple[str, ...],
    since: str | None,
    until: str | None,
    sort: str,
    limit: int,
    page: int,
    no_collapse: bool,
    no_color: bool,
    fill: bool,
    facets: bool,
    timeline: bool,
    index: str,
    documents: str,
    as_json: bool,
) -> None:
    """Search releases: words (all required; most of them past three), "phrases", OR, NOT/-word,
    field:value, wildcards. Quote a phrase for the shell too: '"quds force"'."""
    text = " ".join(query)
    if timeline:
        _refuse_with_timeline(ctx, ("sort", "limit", "page", "fill", "facets", "no_collapse"))
        _timeline(Locations(index, documents), text, issuer, since, until, as_json)
    with _user_errors():
        ix = open_index(Locations(index, documents))
        with ix:
            result = ix.search(
                text,
                issuer=list(issuer) or None,
                since=since,
                until=until,
                sort=sort,  # type: ignore[arg-type]
                limit=limit,
                offset=(page - 1) * limit,
                collapse=not no_collapse,
                fill=fill,
            )
    if not result.hits and result.total and page > 1:
        _page_past_the_end(result, page)
        sys.exit(1)
    _print_result(result, as_json, no_color, all_issuers=facets)
    _search_notices(result)
    sys.exit(0 if result.hits else 1)


def _refuse_with_timeline(ctx: click.Context, names: tuple[str, ...]) -> None:
    """--timeline counts every match: options that shape a page of hits do not apply to it."""
    given = [
        "--" + name.replace("_", "-")
        for name in names
        if ctx.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)
    ]
    if given:
        _fail(f"--timeline counts every matching release: {', '.join(given)} does not apply to it")


def _timeline(
    locations: Locations,
    text: str,
    issuer: tuple[str, ...],
    since: str | None,
    until: str | None,
    as_json: bool,
) -> None:
    from .timeline import draw

    with _user_errors():
        ix = open_index(locations)
        with ix:
            series = ix.timeline(text, issuer=list(issuer) or None, since=since, until=until)
    if as_json:
        for bucket in series:
            click.echo(json.dumps({"period": bucket.period, "count": bucket.count}))
    else:
        for line in draw(series):
            click.echo(line)
        total = sum(b.count for b in series)
        click.echo(f"{plural(total, 'dated release')}, re-issues counted")
    sys.exit(0 if any(b.count for b in series) else 1)


@main.command()
@click.argument("words", nargs=-1)
@location_options
@json_option
def issuers(words: tuple[str, ...], index: str, documents: str, as_json: bool) -> None:
    """List issuers with their number of releases, most first; WORDS keeps those whose name starts with
    them or holds each of them."""
    with _user_errors():
        ix = open_index(Locations(index, documents))
        with ix:
            found = ix.issuers(" ".join(words) or None)
    for item in found:
        if as_json:
            click.echo(json.dumps({"issuer": item.issuer, "count": item.count}, ensure_ascii=False))
        else:
            click.echo(f"{item.count:>8,}  {item.issuer}")
    if not as_json:
        click.echo(plural(len(found), "issuer"), err=True)
    sys.exit(0 if found else 1)


@main.command()
@click.argument("release_id")
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--no-collapse", is_flag=True, help="Show every near-duplicate release, not one per group.")
@click.option("--no-color", is_flag=True, help="No ANSI colour (also: NO_COLOR in the environment).")
@location_options
@json_option
def similar(
    release_id: str, limit: int, no_collapse: bool, no_color: bool, index: str, documents: str, as_json: bool
) -> None:
    """Releases most like a given one (its duplicates and itself left out)."""
    with _user_errors():
        ix = open_index(Locations(index, documents))
        with ix:
            result = ix.similar(release_id, limit=limit, collapse=not no_collapse)
    _print_result(result, as_json, no_color)
    sys.exit(0 if result.hits else 1)


@main.command()
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds to wait for another writer.",
)
@verbose_option
@location_options
def watch(wait: float, verbose: bool, index: str, documents: str) -> None:
    """Bring the index up to date, then keep it current as files change (Ctrl-C stops)."""
    from .index import StatementIndex
    from .shards import ShardedIndex

    locations = Locations(index, documents)

    def report(summary: UpdateSummary) -> None:
        _report_failures(summary, verbose)
        click.echo(f"{PROG}: {_summary_line(summary)}", err=True)

    with _user_errors():
        if not locations.documents.is_dir():
            _fail(f"documents folder {locations.documents} does not exist or is not a folder")
        ix: AnyIndex = (
            _open_sharded(locations)
            if ShardedIndex.exists(locations.index)
            else StatementIndex.open(locations.index, create=True)
        )
        click.echo(f"{PROG}: watching {locations.documents} (Ctrl-C stops)", err=True)
        try:
            with ix:
                ix.watch(locations.documents, on_update=report, wait=wait)
        except KeyboardInterrupt:
            click.echo(f"{PROG}: stopped; the index is up to date as of the last update", err=True)
    sys.exit(0)


WEB_EXTRA = 'pip install "statementsearch[web]" (in a checkout: pip install -e ".[web]")'


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="0: any free port."
)
@click.option("--watch", "keep_current", is_flag=True, help="Keep the index current as documents change.")
@location_options
def serve(host: str, port: int, keep_current: bool, index: str, documents: str) -> None:
    """Serve a search page and a JSON API on http://HOST:PORT/ (Ctrl-C stops)."""
    try:
        from .web.server import LOCAL_HOSTS, listen
        from .web.server import serve as run_server
    except ImportError as exc:
        package = (exc.name or "a package").split(".")[0]
        _fail(f"serve needs the web extra ({package} is not installed): {WEB_EXTRA}")
    locations = Locations(index, documents)
    if keep_current and not locations.documents.is_dir():
        _fail(f"documents folder {locations.documents} does not exist or is not a folder")
    if host not in LOCAL_HOSTS:
        click.echo(
            f"{PROG}: warning: serving on {host}: the page has no authentication, anyone who can reach "
            "this address can read every release in the index",
            err=True,
        )
    with _user_errors():
        ix = open_index(locations)
    with ix:
        try:
            sock = listen(host, port)
        except OSError as exc:
            _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        run_server(
            ix,
            sock,
            say=lambda message: click.echo(f"{PROG}: {message}", err=True),
            documents=locations.documents if keep_current else None,
        )
    sys.exit(0)


@main.command()
@click.argument("release_id")
@location_options
@json_option
def show(release_id: str, index: str, documents: str, as_json: bool) -> None:
    """Print one whole release."""
    with _user_errors():
        ix = open_index(Locations(index, documents))
        with ix:
            release = ix.show(release_id)
    if as_json:
        click.echo(json.dumps(release.to_dict(), ensure_ascii=False))
        return
    click.echo(release.title or "(no title)")
    click.echo(f"{release.issuer or '(no issuer)'} · {release.date or 'no date'} · {release.id}")
    click.echo()
    click.echo(release.body)


@main.command()
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Issuers to list.")
@location_options
@json_option
def stats(top: int, index: str, documents: str, as_json: bool) -> None:
    """Releases, files, issuers, date range, size and segments of the index."""
    import dataclasses

    with _user_errors():
        ix = open_index(Locations(index, documents))
        with ix:
            info = ix.stats(top=top)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(info), ensure_ascii=False))
        return
    click.echo(f"index:     {info.path}")
    click.echo(f"releases:  {info.releases:,} in {plural(info.files, 'file')}")
    click.echo(f"dates:     {info.first_date or '-'} to {info.last_date or '-'}")
    click.echo(f"size:      {info.size_bytes / 1e6:.1f} MB in {plural(info.segments, 'segment')}")
    click.echo(f"updated:   {info.last_update or '-'}")
    click.echo(f"issuers:   {info.issuers:,}")
    for item in info.top_issuers:
        click.echo(f"  {item.count:>8,}  {item.issuer}")
    if info.unreadable:
        click.echo(f"unreadable: {plural(len(info.unreadable), 'file')} (at the last update)")
        for failure in info.unreadable:
            click.echo(f"  {failure.path}: {failure.reason}")


@main.command()
@click.argument("queries", type=click.File("r", encoding="utf-8"))
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True, help="Hits per query.")
@click.option("--format", "fmt", type=click.Choice(["trec", "jsonl"]), default="trec", show_default=True)
@click.option("--no-collapse", is_flag=True, help="Keep every near-duplicate release.")
@click.option(
    "--fill/--no-fill",
    default=True,
    show_default=True,
    help="Rank every release holding one of the words, to --limit (--no-fill: the matches only).",
)
@click.option("--issuer", multiple=True, help="Only releases of this issuer (as search --issuer).")
@click.option("--since", help="From this date (as search --since).")
@click.option("--until", help="Through this date (as search --until).")
@location_options
def batch(
    queries: Any,
    limit: int,
    fmt: str,
    no_collapse: bool,
    fill: bool,
    issuer: tuple[str, ...],
    since: str | None,
    until: str | None,
    index: str,
    documents: str,
) -> None:
    """Run many queries (one `qid<TAB>text` a line) in one process: TREC run lines or JSON Lines.

    A ranked list goes on past a query's matches to --limit with the releases that hold some of its
    words (--no-fill stops at the matches, as search does)."""
    from .errors import DateError, QueryError

    failed = False
    with _user_errors():
        ix = open_index(Locations(index, documents))
    with ix:
        for lineno, line in enumerate(queries, start=1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            qid, tab, text = line.partition("\t")
            if not tab:
                click.echo(f"{PROG}: line {lineno}: expected 'qid<TAB>query'", err=True)
                failed = True
                continue
            try:
                result = ix.search(
                    text,
                    issuer=list(issuer) or None,
                    since=since,
                    until=until,
                    limit=limit,
                    facets=False,
                    collapse=not no_collapse,
                    snippets=fmt == "jsonl",
                    suggestions=False,  # batch output has no place for them
                    fill=fill,
                )
            except DateError as exc:  # the same for every line: stop at once
                _fail(str(exc))
            except QueryError as exc:
                click.echo(f"{PROG}: query {qid}: {exc}", err=True)
                failed = True
                continue
            if result.relaxed:
                click.echo(f"{PROG}: query {qid}: {_relaxed_line(result)}", err=True)
            _print_batch(qid, result, fmt)
    sys.exit(1 if failed else 0)


def _print_batch(qid: str, result: SearchResult, fmt: str) -> None:
    lines = []
    for hit in result.hits:
        if fmt == "trec":
            lines.append(f"{qid} Q0 {hit.id} {hit.rank} {hit.score:.4f} statementsearch")
        else:
            lines.append(json.dumps({"qid": qid, **hit.to_dict()}, ensure_ascii=False))
    if lines:
        click.echo("\n".join(lines))


if __name__ == "__main__":  # pragma: no cover
    main()
