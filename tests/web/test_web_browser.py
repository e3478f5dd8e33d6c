"""Journeys through the search page in a real headless chromium (Debian's), driven by Playwright.

One server and one browser for the module (conftest.py: `web_server`, `browser`); each test opens a fresh
browser context. The accessibility checks inject axe-core's `axe.min.js` (shipped by the
axe-playwright-python package, or the file named by AXE_CORE_JS) and allow no serious or critical violation.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from serving import (
    FIRST_DAY,
    HOSTILE_BODY,
    HOSTILE_TITLE,
    HOSTILE_WORD,
    ISSUERS,
    PHRASE,
    REISSUED_WORD,
    WORD,
    Served,
    generated_records,
)

pytestmark = pytest.mark.usefixtures("chromium")
# How long an action may wait for its element or page: a bound for a failing test, not a speed check.
TIMEOUT_MS = 15_000


@pytest.fixture
def page(browser: Any, web_server: Served) -> Iterator[Any]:
    context = browser.new_context(base_url=web_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page_without_js(browser: Any, web_server: Served) -> Iterator[Any]:
    context = browser.new_context(base_url=web_server.url, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def search_from_home(page: Any, query: str) -> None:
    page.goto("/")
    page.fill("#q", query)
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"/search\?"))


def hit_titles(page: Any) -> list[str]:
    return [title.strip() for title in page.locator(".hit-title").all_inner_texts()]


def hit_dates(page: Any) -> list[str]:
    return [meta.split(" · ")[-1] for meta in page.locator(".hit .meta").all_inner_texts()]


def summary(page: Any) -> str:
    return " ".join(page.inner_text("#summary").split())


def test_type_a_query_and_see_highlighted_hits(page: Any, tmp_path: Path) -> None:
    search_from_home(page, WORD)
    assert summary(page).startswith("1–10 of 36 results")
    assert len(hit_titles(page)) == 10
    marks = {text.lower() for text in page.locator(".hit mark").all_inner_texts()}
    assert marks == {WORD}
    assert page.locator(".hit").first.locator(".snippet mark").count() >= 1
    assert page.input_value("#q") == WORD
    page.screenshot(path=str(tmp_path / "results.png"), full_page=True)
    print(f"screenshot of the results page: {tmp_path / 'results.png'}")


def test_click_an_issuer_facet(page: Any) -> None:
    search_from_home(page, WORD)
    facet = page.locator(".issuer-facets a", has_text=ISSUERS[1])
    count = facet.locator("xpath=..").locator(".count").inner_text()
    facet.click()
    page.wait_for_url(re.compile(r"issuer="))
    assert summary(page).startswith(f"1–10 of {count} results")
    assert {meta.split(" · ")[0] for meta in page.locator(".hit .meta").all_inner_texts()} == {ISSUERS[1]}
    assert page.locator(".active-filters li").inner_text().startswith(f"Issuer: {ISSUERS[1]}")
    page.click(".active-filters a")  # remove the filter again
    page.wait_for_url(lambda url: "issuer=" not in url)
    assert summary(page).startswith("1–10 of 36 results")


def test_change_the_dates(page: Any) -> None:
    search_from_home(page, WORD)
    page.fill("#since", "Jan 2020")
    page.fill("#until", "2020-06-30")
    page.press("#until", "Enter")
    page.wait_for_url(re.compile(r"since=Jan\+2020"))
    dates = hit_dates(page)
    expected = sorted(r["date"] for r in generated_records() if "2020-01-01" <= r["date"] <= "2020-06-30")
    assert sorted(dates) == expected
    assert summary(page).startswith(f"1–{len(expected)} of {len(expected)} results")
    page.fill("#since", "someday")
    page.press("#since", "Enter")
    assert "invalid date 'someday'" in page.inner_text(".error-message")


def test_sort_by_date(page: Any) -> None:
    search_from_home(page, WORD)
    page.select_option("#sort", "oldest")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"sort=oldest"))
    dates = hit_dates(page)
    assert dates == sorted(dates) and dates[0] == FIRST_DAY.isoformat()
    page.select_option("#sort", "newest")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"sort=newest"))
    newest = hit_dates(page)
    assert newest == sorted(newest, reverse=True) and newest[0] > dates[-1]


def test_page_through_the_results(page: Any) -> None:
    search_from_home(page, WORD)
    first = hit_titles(page)
    page.click("nav.pages a[rel=next]")
    page.wait_for_url(re.compile(r"page=2"))
    second = hit_titles(page)
    assert summary(page).startswith("11–20 of 36")
    assert page.get_attribute("ol.hits", "start") == "11"
    assert not set(first) & set(second)
    page.get_by_role("link", name="Page 4", exact=True).click()
    page.wait_for_url(re.compile(r"page=4"))
    assert len(hit_titles(page)) == 6 and page.locator("nav.pages a[rel=next]").count() == 0
    assert page.get_attribute("nav.pages a[aria-current=page]", "href").endswith("page=4")


def test_open_a_release_and_come_back(page: Any) -> None:
    search_from_home(page, WORD)
    page.click("nav.pages a[rel=next]")
    page.wait_for_url(re.compile(r"page=2"))
    results_url = page.url
    title = hit_titles(page)[0]
    page.locator(".hit-title a").first.click()
    page.wait_for_url(re.compile(r"/release\?"))
    assert page.inner_text("h1") == title
    assert page.locator(".release .body p").count() == 2
    assert {m.lower() for m in page.locator(".release mark").all_inner_texts()} == {WORD}
    page.go_back()
    page.wait_for_url(results_url)
    assert hit_titles(page)[0] == title
    page.locator(".hit-title a").first.click()
    page.click(".back a")  # the page's own way back keeps the query and the page
    page.wait_for_url(re.compile(r"/search\?"))
    assert page.url == results_url and hit_titles(page)[0] == title


def test_follow_did_you_mean(page: Any) -> None:
    search_from_home(page, "ceasfire")
    assert page.locator(".hit").count() == 0
    page.click(".suggestion a")
    page.wait_for_url(re.compile(rf"q={WORD}"))
    assert summary(page).startswith("1–10 of 36 results")


def test_relaxed_query_notice_links_to_the_search_without_the_words(page: Any) -> None:
    search_from_home(page, f"{WORD} zyzzogeton")
    notice = page.locator(".notice.relaxed")
    assert "No release has all the words; showing releases without: zyzzogeton." in notice.inner_text()
    assert page.locator(".hit .missing").first.inner_text() == "Without: zyzzogeton"
    notice.locator("a").click()
    page.wait_for_url(re.compile(rf"q={WORD}$"))
    assert page.locator(".notice").count() == 0 and summary(page).startswith("1–10 of 36 results")


def test_phrase_suggestion_and_reading(page: Any) -> None:
    search_from_home(page, PHRASE)
    assert summary(page).startswith("1–4 of 4 results")
    page.click(".notice.phrase a")
    page.wait_for_url(re.compile(r"q=%22grain"))
    assert page.input_value("#q") == f'"{PHRASE}"' and summary(page).startswith("1–2 of 2 results")
    search_from_home(page, f"{WORD} convoy patrol harbor")
    assert page.inner_text(".reading").startswith("Read as: at least 3 of 4 words")


def test_two_issuer_facets_keep_either(page: Any) -> None:
    search_from_home(page, WORD)
    page.locator(".issuer-facets a", has_text=ISSUERS[0]).click()
    page.wait_for_url(re.compile(r"issuer="))
    assert summary(page).startswith("1–10 of 12 results")
    page.locator(".issuer-facets a", has_text=ISSUERS[2]).click()  # still offered, with its count
    page.wait_for_url(re.compile(r"issuer=.*&issuer="))
    assert page.locator(".active-filters li").count() == 2
    assert summary(page).startswith("1–10 of 24 results")
    assert {meta.split(" · ")[0] for meta in page.locator(".hit .meta").all_inner_texts()} == {
        ISSUERS[0],
        ISSUERS[2],
    }
    page.locator(".issuer-facets .chosen a", has_text=ISSUERS[0]).click()  # a chosen facet removes itself
    page.wait_for_url(lambda url: url.count("issuer=") == 1)
    assert summary(page).startswith("1–10 of 12 results")


def test_timeline_bar_opens_its_period(page: Any) -> None:
    search_from_home(page, WORD)
    bars = page.locator("svg.chart a")
    assert bars.count() == 24  # 36 releases every 20 days from 2019-01-10: every month of two years has some
    label = bars.first.get_attribute("aria-label")
    assert label == "2019-01: 2 releases"
    bars.first.click()
    page.wait_for_url(re.compile(r"since=2019-01&until=2019-01"))
    assert hit_dates(page) and all(day.startswith("2019-01") for day in hit_dates(page))


def test_reissues_expand_without_javascript(page_without_js: Any) -> None:
    page = page_without_js
    search_from_home(page, REISSUED_WORD)
    details = page.locator(".hit details.duplicates")
    assert details.locator("summary").inner_text() == "also issued as 1 other"
    assert not details.locator("li").is_visible()
    details.locator("summary").click()
    assert details.locator("li a").is_visible()
    details.locator("li a").click()
    page.wait_for_url(re.compile(r"/release\?id=reissue-1"))


def test_the_whole_journey_works_with_javascript_off(page_without_js: Any) -> None:
    page = page_without_js
    search_from_home(page, WORD)
    assert summary(page).startswith("1–10 of 36 results")
    page.locator(".issuer-facets a", has_text=ISSUERS[2]).click()
    page.wait_for_url(re.compile(r"issuer="))
    page.select_option("#sort", "oldest")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"sort=oldest"))
    dates = hit_dates(page)
    assert dates == sorted(dates) and summary(page).startswith("1–10 of 12 results")
    assert "issuer=NATO" in page.url
    page.click("nav.pages a[rel=next]")
    page.wait_for_url(re.compile(r"page=2"))
    assert hit_dates(page) == sorted(hit_dates(page)) and hit_dates(page)[0] > dates[-1]
    page.locator(".hit-title a").first.click()
    page.wait_for_url(re.compile(r"/release\?"))
    assert page.locator(".release .meta").inner_text().startswith(ISSUERS[2])


def test_hostile_releases_and_queries_run_no_script(page: Any) -> None:
    dialogs: list[str] = []

    def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    search_from_home(page, f'{HOSTILE_WORD} "><img src=x onerror=alert(1)><script>alert(2)</script>')
    page.goto(f"/search?q={HOSTILE_WORD}")
    assert hit_titles(page) == [HOSTILE_TITLE]
    page.locator(".hit-title a").first.click()
    page.wait_for_url(re.compile(r"/release\?"))
    assert page.inner_text("h1") == HOSTILE_TITLE
    assert HOSTILE_BODY in page.inner_text(".release .body")
    for url in ("/", "/search?q=%3Cscript%3Ealert(3)%3C/script%3E", "/release?id=hostile-1"):
        page.goto(url)
        assert page.evaluate("document.querySelectorAll('script, img, iframe, object, embed').length") == 0
        assert page.evaluate("typeof window.pwned") == "undefined"
        assert page.locator("a[href^='javascript:' i]").count() == 0
        assert not page.locator("[onerror], [onmouseover], [onclick]").count()
    assert dialogs == []


def test_keyboard_only(page: Any) -> None:
    page.goto("/")
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type(WORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?"))
    hrefs = page.eval_on_selector_all(".hit-title a", "links => links.map(a => a.getAttribute('href'))")
    focused = []
    for _ in range(60):
        page.keyboard.press("Tab")
        href = page.evaluate("document.activeElement.getAttribute('href')")
        if href in hrefs:
            focused.append(href)
        if len(focused) == len(hrefs):
            break
    assert focused == hrefs  # every result reached by Tab, in rank order
    last_title = hit_titles(page)[-1]
    page.keyboard.press("Enter")  # the last result has the focus: open it
    page.wait_for_url(re.compile(r"/release\?"))
    assert page.inner_text("h1") == last_title


# ---------------------------------------------------------------------------------------------- axe


def axe_source() -> str:
    """axe-core's axe.min.js: AXE_CORE_JS when set, else the copy axe-playwright-python ships."""
    named = os.environ.get("AXE_CORE_JS")
    if named:
        return Path(named).read_text(encoding="utf-8")
    package = pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")
    return (Path(package.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        f"/search?q={WORD}&issuer=Department+of+State",
        "/search?q=ceasfire",
        "/release?id=reissue-0&q=plant",
    ],
)
def test_no_serious_accessibility_violation(page: Any, path: str) -> None:
    page.goto(path)
    page.evaluate(axe_source())  # through the DevTools protocol: the page's CSP does not apply
    report = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in report["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert report["testEngine"]["version"] and serious == []
