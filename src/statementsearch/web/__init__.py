"""`statementsearch serve`: a local search page and JSON API over one `StatementIndex` (the `web` extra).

A caller of the library like `cli.py`, never part of it: `app.py` holds the handlers (each one call into
`StatementIndex`), `params.py` reads a search from a URL, `chart.py` lays out the timeline, `server.py`
runs it all under uvicorn. Needs `pip install "statementsearch[web]"` (Starlette, uvicorn, Jinja2).
"""
