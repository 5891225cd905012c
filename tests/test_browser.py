"""The HTML report in a real browser (headless Chromium through Playwright).

Skipped, with the reason, when Playwright or a Chromium is missing.  The browser is
looked for at ``$STEMMATIC_CHROMIUM``, then ``chromium`` / ``chromium-browser`` on the
PATH, then Playwright's own download.  Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stemmatic.report import to_dict
from stemmatic.report.html import render_html_report
from stemmatic.types import Report

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need Playwright")

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _handmade() -> Callable[[], Report]:
    # Loaded by path: it works whatever pytest's import mode, without a conftest.
    spec = importlib.util.spec_from_file_location(
        "_html_report_cases", Path(__file__).with_name("test_html.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handmade: Callable[[], Report] = module.handmade_report
    return handmade


handmade_report = _handmade()


def _chromium() -> str | None:
    for candidate in (
        os.environ.get("STEMMATIC_CHROMIUM"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    with sync_api.sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except sync_api.Error as error:  # no browser: Playwright's download is missing too
            pytest.skip(f"no Chromium to run the browser tests ({str(error).splitlines()[0]})")
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from stemmatic.pipeline import trace

    folder = tmp_path_factory.mktemp("html")
    example = trace(
        str(ROOT / "examples" / "essay.md"), sources=[str(ROOT / "examples" / "sources")]
    )
    out = {}
    for name, report in (("example", example), ("handmade", handmade_report())):
        path = folder / f"{name}.html"
        path.write_text(render_html_report(report), encoding="utf-8")
        out[name] = path
    return out


class Watched:
    """A page whose requests, console messages and errors are recorded."""

    def __init__(self, browser: Any, path: Path, viewport: dict[str, int]) -> None:
        self.page = browser.new_page(viewport=viewport)
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on(
            "console",
            lambda message: (
                self.console_errors.append(message.text)
                if message.type in ("error", "warning")
                else None
            ),
        )
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.url = path.as_uri()
        self.page.goto(self.url)
        self.page.wait_for_selector("html[data-ready]", state="attached")

    def clean(self) -> None:
        assert self.page_errors == []
        assert self.console_errors == []
        assert all(url == self.url or url.startswith("about:") for url in self.requests), (
            self.requests
        )


@pytest.fixture()
def open_page(browser: Any) -> Iterator[Callable[..., Watched]]:
    opened: list[Watched] = []

    def open_(path: Path, viewport: dict[str, int] = DESKTOP) -> Watched:
        watched = Watched(browser, path, viewport)
        opened.append(watched)
        return watched

    yield open_
    for watched in opened:
        watched.page.close()


def source_span_state(page: Any) -> dict[str, Any]:
    """The chosen span in the source pane: its text, and whether its start is in view."""
    return page.evaluate(
        """() => {
          const body = document.getElementById('source-body');
          const nodes = Array.from(body.querySelectorAll('.cur'));
          if (!nodes.length) return {count: 0};
          const box = body.getBoundingClientRect();
          const first = nodes[0].getBoundingClientRect();
          return {
            count: nodes.length,
            text: nodes.map((n) => n.textContent).join(''),
            top: first.top, bottom: first.bottom,
            paneTop: box.top, paneBottom: box.top + body.clientHeight,
            source: document.getElementById('source-select').selectedOptions[0].textContent,
          };
        }"""
    )


def assert_in_view(state: dict[str, Any]) -> None:
    assert state["count"] > 0
    assert state["paneTop"] <= state["top"] and state["bottom"] <= state["paneBottom"], state


def document_text(page: Any, source: int | None = None) -> str:
    """A document's text rebuilt from the page's data (the query, or source ``source``)."""
    return page.evaluate(
        """(i) => {
          const d = JSON.parse(document.getElementById('stemmatic-data').textContent);
          const doc = i === null ? d.query : d.sources[i];
          return doc.segments.map((s) => Array.isArray(s)
            ? (typeof s[0] === 'string' ? s[0] : s[0].join('\\n'))
            : (s.skip ? '\\0'.repeat(s.skip) : '')).join('');
        }""",
        source,
    )


def query_span_text(page: Any) -> str:
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#query-body span.cur')).map((n) => n.textContent).join('')"
    )


# ------------------------------------------------------------------------------ tests


@pytest.mark.parametrize("name", ["example", "handmade"])
def test_loads_offline_without_errors(
    open_page: Callable[..., Watched], pages: dict[str, Path], name: str
) -> None:
    watched = open_page(pages[name])
    page = watched.page
    assert page.locator("#query-body button.pm").count() > 0
    assert page.locator("#summary li").count() >= 4
    page.keyboard.press("n")
    page.keyboard.press("j")
    watched.clean()


@pytest.mark.parametrize("name", ["example", "handmade"])
def test_each_kind_of_passage_reveals_its_source_span(
    open_page: Callable[..., Watched], pages: dict[str, Path], name: str
) -> None:
    report = handmade_report() if name == "handmade" else None
    watched = open_page(pages[name])
    page = watched.page
    data = page.evaluate("JSON.parse(document.getElementById('stemmatic-data').textContent)")
    kinds_seen = set()
    for index, passage in enumerate(data["passages"]):
        if passage["kind"] in kinds_seen:
            continue
        kinds_seen.add(passage["kind"])
        # Click the passage's words (not its mark), as a reader would.
        page.locator(f"#query-body button.pm[data-p='{index}']").scroll_into_view_if_needed()
        segment = page.evaluate_handle(
            f"""() => Array.from(document.querySelectorAll('#query-body span'))
                  .find((s) => s._p && s._p[0] === {index})"""
        )
        segment.as_element().click()
        state = source_span_state(page)
        assert_in_view(state)
        assert state["source"] == data["sources"][passage["source"]]["name"]
        source_text = document_text(page, passage["source"])
        assert state["text"] == source_text[passage["source_start"] : passage["source_end"]]
        assert (
            page.locator(f"#query-body button.pm[data-p='{index}']")
            .get_attribute("class")
            .count("cur")
            == 1
        )
    if report is not None:
        assert kinds_seen == {"quotation", "copy", "paraphrase"}
        # Offsets are code points, the browser counts UTF-16 units: the emoji before the
        # passages must not shift what is highlighted.
        page.locator("#query-body button.pm[data-p='0']").click()
        passage = data["passages"][0]
        assert (
            query_span_text(page)
            == report.query.text[passage["query_start"] : passage["query_end"]]
        )
    watched.clean()


@pytest.mark.parametrize("name", ["example", "handmade"])
def test_each_finding_links_to_its_place(
    open_page: Callable[..., Watched], pages: dict[str, Path], name: str
) -> None:
    watched = open_page(pages[name])
    page = watched.page
    data = page.evaluate("JSON.parse(document.getElementById('stemmatic-data').textContent)")
    if name == "handmade":
        assert len(data["findings"]) >= 8
    query_text = document_text(page)
    for index, finding in enumerate(data["findings"]):
        page.locator(f"#findings button.finding[data-f='{index}']").click()
        assert (
            page.locator(f"#findings button.finding[data-f='{index}']").get_attribute(
                "aria-current"
            )
            == "true"
        )
        flag = page.locator(f"#query-body button.flag[data-f='{index}']")
        assert "cur" in flag.get_attribute("class")
        # The query place is in view in the query pane.
        in_view = page.evaluate(
            """(i) => {
              const pane = document.getElementById('query-body');
              const flag = pane.querySelector(`button.flag[data-f='${i}']`);
              const r = flag.getBoundingClientRect(), p = pane.getBoundingClientRect();
              return r.top >= p.top && r.bottom <= p.top + pane.clientHeight;
            }""",
            index,
        )
        assert in_view
        assert query_span_text(page) == query_text[finding["start"] : finding["end"]]
        if finding["source"] is not None and (
            finding["source_start"] is not None or finding["passage"] is not None
        ):
            state = source_span_state(page)
            assert_in_view(state)
            assert state["source"] == data["sources"][finding["source"]]["name"]
            source_text = document_text(page, finding["source"])
            if finding["source_start"] is not None:
                expected = source_text[finding["source_start"] : finding["source_end"]]
            else:
                tied = data["passages"][finding["passage"]]
                expected = source_text[tied["source_start"] : tied["source_end"]]
            assert state["text"] == expected
        assert page.locator("#detail").inner_text().find(finding["message"][:20]) != -1
    watched.clean()


def test_n_and_p_move_between_findings(
    open_page: Callable[..., Watched], pages: dict[str, Path]
) -> None:
    watched = open_page(pages["handmade"])
    page = watched.page
    count = page.locator("#findings button.finding").count()

    def current() -> tuple[str | None, str | None]:
        listed, focused = page.evaluate(
            """() => [
              document.querySelector('#findings [aria-current="true"]')?.dataset.f ?? null,
              document.activeElement?.classList.contains('flag') ? document.activeElement.dataset.f : null,
            ]"""
        )
        return listed, focused

    page.keyboard.press("n")
    assert current() == ("0", "0")
    page.keyboard.press("n")
    assert current() == ("1", "1")
    page.keyboard.press("p")
    assert current() == ("0", "0")
    page.keyboard.press("p")  # wraps round to the last
    assert current() == (str(count - 1), str(count - 1))
    # The focused flag is in view and highlighted.
    assert "cur" in page.locator(f"#query-body button.flag[data-f='{count - 1}']").get_attribute(
        "class"
    )
    in_view = page.evaluate(
        """() => {
          const pane = document.getElementById('query-body');
          const r = document.activeElement.getBoundingClientRect(), p = pane.getBoundingClientRect();
          return r.top >= p.top && r.bottom <= p.top + pane.clientHeight;
        }"""
    )
    assert in_view
    # The buttons in the header do the same.
    page.locator("#next-finding").click()
    assert current()[0] == "0"
    # j and k move between passages; n then goes on from the chosen passage.
    page.keyboard.press("j")
    page.keyboard.press("j")
    chosen = page.evaluate("() => document.activeElement.dataset.p")
    assert chosen == "1"
    assert "cur" in (page.locator("#query-body button.pm[data-p='1']").get_attribute("class") or "")
    page.keyboard.press("k")
    assert page.evaluate("() => document.activeElement.dataset.p") == "0"
    data = page.evaluate("JSON.parse(document.getElementById('stemmatic-data').textContent)")
    start = data["passages"][0]["query_start"]
    expected = next(i for i, f in enumerate(data["findings"]) if f["start"] >= start)
    page.keyboard.press("n")
    assert current()[0] == str(expected)
    # Letters typed into a form field are not taken as commands.
    before = current()[0]
    page.locator("#source-select").focus()
    page.keyboard.press("n")
    assert current()[0] == before
    watched.clean()


def test_markup_in_a_source_is_shown_as_text(
    open_page: Callable[..., Watched], pages: dict[str, Path]
) -> None:
    watched = open_page(pages["handmade"])
    page = watched.page
    index = page.evaluate(
        "() => JSON.parse(document.getElementById('stemmatic-data').textContent)"
        ".passages.findIndex((p) => p.source_id === 'evil')"
    )
    page.locator(f"#query-body button.pm[data-p='{index}']").click()
    body = page.locator("#source-body")
    text = body.evaluate("(n) => n.textContent")
    assert "<script>window.__pwned=1</script>" in text
    assert '<img src=x onerror="window.__pwned=1">' in text
    assert "</style></script><!-- <b>bold</b> & &amp;" in text
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("img, iframe, object, embed").count() == 0
    assert page.locator("body script").count() == 2  # the data block and the page's script
    assert body.locator("b").count() == 0
    # The title and option text carrying markup are text as well.
    assert "</title>" in page.locator("#source-select").inner_text()
    assert page.title() == "Stemmatic report: Docks & <Memory>"
    page.keyboard.press("n")
    watched.clean()


def test_filters_hide_passages_and_findings(
    open_page: Callable[..., Watched], pages: dict[str, Path]
) -> None:
    watched = open_page(pages["handmade"])
    page = watched.page
    assert page.locator("#query-body .k-copy").count() > 0
    page.locator("#filter-kind-copy").uncheck()
    assert page.locator("#query-body .k-copy").count() == 0
    assert page.locator("#query-body button.pm.hide").count() == 2
    page.locator("#filter-kind-copy").check()
    assert page.locator("#query-body .k-copy").count() > 0
    visible_before = page.locator("#findings li:not([hidden])").count()
    smith = page.evaluate(
        "() => JSON.parse(document.getElementById('stemmatic-data').textContent)"
        ".sources.findIndex((s) => s.id === 'smith')"
    )
    page.locator(f"#filter-source-{smith}").uncheck()
    assert page.locator("#findings li:not([hidden])").count() < visible_before
    assert "of" in page.locator("#findings-count").inner_text()
    # n skips the findings the filter hides.
    for _ in range(6):
        page.keyboard.press("n")
        f = page.evaluate(
            "() => document.querySelector('#findings [aria-current=\"true\"]').dataset.f"
        )
        assert page.locator(f"#findings li:has(button[data-f='{f}'])").is_visible()
    page.locator("#filter-attribution-none").uncheck()
    assert page.locator("#query-body .k-copy").count() == 0  # the only copy left was unassessed
    # Hard-wrapped text reflows; the original line breaks come back on request.
    white_space = "() => getComputedStyle(document.querySelector('#query-body .sb')).whiteSpace"
    assert page.evaluate(white_space) == "normal"
    page.locator("#keep-breaks").check()
    assert page.evaluate(white_space) == "pre-wrap"
    watched.clean()


@pytest.mark.parametrize("name", ["example", "handmade"])
def test_screenshots_and_phone_layout(
    open_page: Callable[..., Watched], pages: dict[str, Path], name: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    desktop = open_page(pages[name], DESKTOP)
    page = desktop.page
    # Three columns side by side, nothing wider than the window.
    boxes = [page.locator(sel).bounding_box() for sel in ("#side", "#query-pane", "#source-pane")]
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
    assert abs(boxes[1]["y"] - boxes[2]["y"]) < 1
    assert page.evaluate("() => document.documentElement.scrollWidth") <= DESKTOP["width"]
    page.screenshot(path=str(ARTIFACTS / f"{name}-1280x800.png"))
    page.keyboard.press("n")
    page.screenshot(path=str(ARTIFACTS / f"{name}-1280x800-finding.png"))
    desktop.clean()

    phone = open_page(pages[name], PHONE)
    page = phone.page
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    side, query = page.locator("#side").bounding_box(), page.locator("#query-pane").bounding_box()
    assert side["y"] < query["y"] and query["width"] > PHONE["width"] - 2  # stacked
    sheet = page.locator("#source-pane").bounding_box()
    assert sheet["y"] + sheet["height"] == pytest.approx(PHONE["height"], abs=1)
    assert sheet["height"] < 80  # a closed bottom sheet
    page.screenshot(path=str(ARTIFACTS / f"{name}-390x844.png"))
    page.locator("#query-body button.pm").nth(1).click()
    assert page.locator("#source-pane").bounding_box()["height"] > 300  # opened
    assert_in_view(source_span_state(page))
    # The chosen passage stays visible above the sheet.
    top = page.evaluate(
        "() => document.querySelector('#query-body .cur').getBoundingClientRect().top"
    )
    assert 0 <= top < page.locator("#source-pane").bounding_box()["y"]
    page.screenshot(path=str(ARTIFACTS / f"{name}-390x844-passage.png"))
    page.keyboard.press("Escape")
    assert page.locator("#source-pane").bounding_box()["height"] < 80
    phone.clean()


def test_report_without_texts_opens(open_page: Callable[..., Watched], tmp_path: Path) -> None:
    from stemmatic.report.html import render_html

    data = to_dict(handmade_report())  # no texts
    path = tmp_path / "partial.html"
    path.write_text(render_html(data), encoding="utf-8")
    watched = open_page(path)
    page = watched.page
    assert page.locator("#query-body .elided").count() > 0
    page.locator("#query-body button.pm").first.click()
    assert_in_view(source_span_state(page))
    watched.clean()
