"""The terminal report, drawn with rich.

Every piece of user text goes through :class:`rich.text.Text`, never markup, so a
citation such as ``[1]`` in a document is printed as it is.  When the console cannot show
styles (output to a file or a pipe) word differences are marked the way ``wdiff`` does:
``[-source words-]``, ``{+query words+}`` and ``{~variants~}``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from stemmatic.errors import SettingsError
from stemmatic.report.json import summarize, to_jsonable
from stemmatic.types import (
    Attribution,
    Difference,
    DiffType,
    Document,
    Finding,
    Kind,
    Passage,
    Report,
)

ELLIPSIS = "…"

# How each side of a difference is shown: a style for consoles that show styles, and
# wdiff-like markers for those that do not.
_CHANGED_QUERY = ("bold green underline", "{+", "+}")
_CHANGED_SOURCE = ("red strike", "[-", "-]")
_VARIANT = ("yellow dim", "{~", "~}")
_EDITORIAL = ("cyan italic", "{~", "~}")
_GAP = ("bold red", "", "")  # a caret where the other side has words this one lacks
_MINOR = frozenset({DiffType.TYPOGRAPHY, DiffType.CASE, DiffType.SPELLING})

_KIND_STYLE = {Kind.QUOTATION: "cyan", Kind.COPY: "magenta", Kind.PARAPHRASE: "blue"}
_ATTRIBUTION_STYLE = {
    Attribution.CITED: "green",
    Attribution.UNCITED: "yellow",
    Attribution.MISCITED: "red",
}


def truncate_middle(text: str, width: int, ellipsis: str = ELLIPSIS) -> str:
    """Shorten ``text`` to at most ``width`` characters by cutting out its middle.

    The start and the end of a passage say most about where it is, so both are kept.

    Args:
        text: the text to shorten.
        width: the most characters the result may have (at least 1).
        ellipsis: what replaces the cut.

    Returns:
        ``text`` itself when it fits, else its head, the ellipsis and its tail.
    """
    if width < 1:
        raise SettingsError(f"truncation width must be at least 1, not {width}")
    if len(text) <= width:
        return text
    keep = width - len(ellipsis)
    if keep <= 0:
        return ellipsis[:width]
    head = (keep + 1) // 2
    tail = keep - head
    return text[:head] + ellipsis + (text[len(text) - tail :] if tail else "")


def _one_line(text: str) -> str:
    """Replace line breaks, tabs and control characters by spaces, one for one."""
    # One for one, so offsets into the original text stay valid in the cleaned copy.
    return "".join(" " if ch.isspace() or ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)


def _kept_ranges(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """The parts of ``text[start:end]`` to show: all of it, or a head and a tail."""
    if end - start <= limit:
        return [(start, end)]
    keep = max(2, limit - 3)  # room for " … "
    head_end = start + (keep + 1) // 2
    tail_start = end - keep // 2
    # Cut at spaces where one is near, so words are not split in half.
    space = text.rfind(" ", head_end - 12, head_end)
    if space > start:
        head_end = space
    space = text.find(" ", tail_start, tail_start + 12)
    if space != -1 and space < end - 1:
        tail_start = space + 1
    return [(start, head_end), (tail_start, end)]


@dataclass(frozen=True, slots=True)
class _Mark:
    start: int
    end: int
    look: tuple[str, str, str]  # style, opening marker, closing marker


def _marks(differences: Sequence[Difference], side: str) -> list[_Mark]:
    """Where to highlight one side's words, from a passage's differences."""
    marks = []
    for d in differences:
        start, end = (
            (d.query_start, d.query_end) if side == "query" else (d.source_start, d.source_end)
        )
        if d.type in _MINOR:
            look = _VARIANT
        elif d.type == DiffType.EDITORIAL:
            look = _EDITORIAL
        elif start == end:
            look = _GAP
        else:
            look = _CHANGED_QUERY if side == "query" else _CHANGED_SOURCE
        marks.append(_Mark(start, end, look))
    return sorted(marks, key=lambda m: (m.start, m.end))


def _excerpt(
    text: str, start: int, end: int, marks: Sequence[_Mark], limit: int, plain: bool
) -> Text:
    """``text[start:end]`` on one logical line, highlighted, with its middle cut if long."""
    out = Text()
    for index, (a, b) in enumerate(_kept_ranges(text, start, end, limit)):
        if index:
            out.append(f" {ELLIPSIS} ", style="dim")
        pos = a
        for mark in marks:
            if mark.start == mark.end:
                # Words missing on this side: a caret shows where they would be.
                if a <= mark.start <= b and mark.start >= pos:
                    out.append(_one_line(text[pos : mark.start]))
                    out.append("‸", style=mark.look[0])
                    pos = mark.start
                continue
            m_start, m_end = max(mark.start, a, pos), min(mark.end, b)
            if m_start >= m_end:
                continue
            out.append(_one_line(text[pos:m_start]))
            style, opening, closing = mark.look
            words = _one_line(text[m_start:m_end])
            if plain:
                words = f"{opening}{words}{closing}"
            out.append(words, style=style)
            pos = m_end
        out.append(_one_line(text[pos:b]))
    return out


def _span_label(start: int, end: int) -> str:
    return f"{start:,}–{end:,}"


def _side_by_side(
    left_title: str, left: Text, right_title: str | None, right: Text | None
) -> Table:
    table = Table(box=box.ROUNDED, expand=True, show_lines=False, padding=(0, 1))
    table.add_column(Text(left_title, style="bold"), ratio=1, overflow="fold")
    if right is None:
        table.add_row(left)
    else:
        table.add_column(Text(right_title or "Source", style="bold"), ratio=1, overflow="fold")
        table.add_row(left, right)
    return table


def _window(
    text: str, span: tuple[int, int], bounds: tuple[int, int], limit: int
) -> tuple[int, int]:
    """Widen ``span`` with the words around it, inside ``bounds``, to about ``limit`` characters."""
    start, end = span
    # The span itself is always shown, even where it reaches past the bounds.
    lo, hi = min(bounds[0], start), max(bounds[1], end)
    room = max(0, limit - (end - start)) // 2
    new_start, new_end = max(lo, start - room), min(hi, end + room)
    # Do not begin or end the context in the middle of a word.
    while lo < new_start < start and not text[new_start - 1].isspace():
        new_start += 1
    while end < new_end < hi and not text[new_end].isspace():
        new_end -= 1
    return new_start, new_end


def _indent(renderable: Table | Text) -> Padding:
    return Padding(renderable, (0, 0, 0, 3), expand=False)


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%"


class _Renderer:
    """Holds what every section needs: the report, its summary and the drawing options."""

    def __init__(
        self, report: Report, console: Console, excerpt_chars: int, max_items: int | None
    ) -> None:
        self.report = report
        self.console = console
        self.summary = summarize(report)
        self.sources = {source.id: source for source in report.sources}
        self.limit = excerpt_chars
        self.max_items = max_items
        # No colour system means no styles at all (a file, a pipe): mark differences in text.
        self.plain = console.color_system is None
        self.width = max(20, console.width)

    # ---------------------------------------------------------------- pieces

    def source_name(self, source_id: str) -> str:
        source = self.sources.get(source_id)
        if source is not None and source.title:
            return f"{source_id} ({truncate_middle(_one_line(source.title), 40)})"
        return source_id

    def rule(self, title: str) -> None:
        self.console.print()
        self.console.rule(Text(title, style="bold"), align="left")

    def more(self, shown: int, total: int, what: str) -> None:
        if total > shown:
            self.console.print(
                Text(
                    f"{ELLIPSIS} and {total - shown:,} more {what} (--verbose shows all)",
                    style="dim",
                )
            )

    def limited(self, items: Sequence[Any]) -> Sequence[Any]:
        return items if self.max_items is None else items[: self.max_items]

    def passage_for(self, finding: Finding) -> Passage | None:
        """The passage a finding is about: same source, most overlap in the query."""
        best: Passage | None = None
        best_overlap = -1
        if finding.source_id is None:
            return None  # e.g. a citation that names no source: no passage to compare with
        for passage in self.report.passages:
            if passage.source_id != finding.source_id:
                continue
            overlap = min(passage.query_end, finding.end) - max(passage.query_start, finding.start)
            touches = passage.query_start <= finding.start <= passage.query_end
            if (overlap > 0 or touches) and overlap > best_overlap:
                best, best_overlap = passage, overlap
        return best

    def comparison(
        self,
        query_span: tuple[int, int],
        source_id: str | None,
        source_span: tuple[int, int] | None,
        differences: Sequence[Difference],
    ) -> Table:
        query = self.report.query
        left = _excerpt(
            query.text, *query_span, _marks(differences, "query"), self.limit, self.plain
        )
        left_title = f"Query {_span_label(*query_span)}"
        if source_id is None:
            return _side_by_side(left_title, left, None, None)
        source: Document | None = self.sources.get(source_id)
        name = truncate_middle(source_id, 30)
        if source is None or source_span is None:
            note = "source text not in the report" if source is None else "no source span"
            return _side_by_side(left_title, left, f"Source {name}", Text(note, style="dim italic"))
        right = _excerpt(
            source.text, *source_span, _marks(differences, "source"), self.limit, self.plain
        )
        return _side_by_side(left_title, left, f"Source {name} {_span_label(*source_span)}", right)

    # ---------------------------------------------------------------- sections

    def quiet(self) -> None:
        s = self.summary
        counts = (
            f"{s['reused']['passages']:,} passage{'s' if s['reused']['passages'] != 1 else ''}, "
            f"{s['findings']['total']:,} finding{'s' if s['findings']['total'] != 1 else ''}, "
            f"{s['skipped']:,} skipped"
        )
        path = truncate_middle(_one_line(self.report.query.path or f"<{self.report.query.id}>"), 60)
        line = Text(f"{path}: ")
        line.append(s["verdict"], style="bold")
        line.append(f" ({counts})", style="dim")
        # soft_wrap: a single line however narrow the console, so scripts can grep it.
        self.console.print(line, soft_wrap=True)

    def header(self) -> None:
        query = self.report.query
        title = Text("Stemmatic report: ", style="bold")
        title.append(truncate_middle(_one_line(query.path or f"<{query.id}>"), self.width - 20))
        self.console.print(title)
        if query.title:
            self.console.print(
                Text(truncate_middle(_one_line(query.title), self.width), style="italic")
            )
        sources = len(self.report.sources)
        facts = (
            f"{len(query.text):,} characters · "
            f"{sources:,} source{'s' if sources != 1 else ''} searched"
            f" · {len(self.report.skipped):,} skipped"
        )
        self.console.print(Text(facts, style="dim"))
        self.console.print(Text(self.summary["verdict"], style="bold"))

    def tables(self) -> None:
        s = self.summary
        if s["reused"]["passages"] == 0:
            return
        table = Table(title=None, box=box.SIMPLE_HEAD, show_edge=False)
        table.add_column("Reuse")
        table.add_column("Passages", justify="right")
        table.add_column("Characters", justify="right")
        table.add_column("Share of text", justify="right")

        def row(label: Text, stats: dict[str, Any]) -> None:
            table.add_row(
                label,
                f"{stats['passages']:,}",
                f"{stats['characters']:,}",
                _percent(stats["share"]),
            )

        row(Text("all passages", style="bold"), s["reused"])
        table.add_section()
        for kind in Kind:
            row(Text(kind.value, style=_KIND_STYLE[kind]), s["by_kind"][kind.value])
        table.add_section()
        for attribution in Attribution:
            row(
                Text(attribution.value, style=_ATTRIBUTION_STYLE[attribution]),
                s["by_attribution"][attribution.value],
            )
        self.rule("Summary")
        self.console.print(table)

        by_source = sorted(
            s["by_source"].items(), key=lambda item: (-item[1]["characters"], item[0])
        )
        sources = Table(box=box.SIMPLE_HEAD, show_edge=False)
        sources.add_column("Source", overflow="fold", ratio=1)
        sources.add_column("Passages", justify="right")
        sources.add_column("Characters", justify="right")
        sources.add_column("Share of text", justify="right")
        for source_id, stats in self.limited(by_source):
            sources.add_row(
                Text(self.source_name(source_id)),
                f"{stats['passages']:,}",
                f"{stats['characters']:,}",
                _percent(stats["share"]),
            )
        self.rule(f"Sources ({len(by_source):,})")
        self.console.print(sources)
        self.more(len(self.limited(by_source)), len(by_source), "sources")

    def legend(self) -> None:
        if self.plain:
            self.console.print(
                Text(
                    "Differences: [-source only-] {+query only+} {~variant~}  ‸ words missing here",
                    style="dim",
                )
            )
        else:
            legend = Text("Differences: ", style="dim")
            legend.append("source only", style=_CHANGED_SOURCE[0])
            legend.append("  ")
            legend.append("query only", style=_CHANGED_QUERY[0])
            legend.append("  ")
            legend.append("variant", style=_VARIANT[0])
            legend.append("  ")
            legend.append("editorial", style=_EDITORIAL[0])
            legend.append("  ‸ words missing here", style="dim")
            self.console.print(legend)

    def finding_spans(
        self, finding: Finding, passage: Passage | None
    ) -> tuple[tuple[int, int], str | None, tuple[int, int] | None]:
        """The query span, source and source span to show for a finding.

        A finding inside a passage is shown with the passage's words around it (up to the
        excerpt length), so a misquoted word is seen in its sentence.
        """
        query_span = (finding.start, finding.end)
        source_id = finding.source_id
        source_span: tuple[int, int] | None = None
        if finding.source_start is not None and finding.source_end is not None:
            source_span = (finding.source_start, finding.source_end)
        if passage is None:
            return query_span, source_id, source_span
        source_id = passage.source_id
        if source_span is None:
            # No source span given: take the part of the source in the same proportion.
            q_length = max(1, passage.query_end - passage.query_start)
            s_length = passage.source_end - passage.source_start
            start = (
                passage.source_start
                + (max(finding.start, passage.query_start) - passage.query_start)
                * s_length
                // q_length
            )
            end = (
                passage.source_start
                + (min(finding.end, passage.query_end) - passage.query_start) * s_length // q_length
            )
            source_span = (start, max(start, end))
        query_span = _window(
            self.report.query.text, query_span, (passage.query_start, passage.query_end), self.limit
        )
        source = self.sources.get(source_id)
        if source is not None:
            source_span = _window(
                source.text, source_span, (passage.source_start, passage.source_end), self.limit
            )
        return query_span, source_id, source_span

    def findings(self, verbose: bool) -> None:
        findings = sorted(self.report.findings, key=lambda f: (f.start, f.type, f.end, f.message))
        if not findings:
            return
        self.rule(f"Findings ({len(findings):,})")
        self.legend()
        shown = self.limited(findings)
        for number, finding in enumerate(shown, 1):
            line = Text(f"{number}. ")
            line.append(finding.type, style="bold red")
            line.append(f"  query {_span_label(finding.start, finding.end)}", style="dim")
            if finding.source_id is not None:
                line.append(f"  source {truncate_middle(finding.source_id, 40)}", style="dim")
            self.console.print(line)
            message = truncate_middle(_one_line(finding.message), max(self.limit, self.width))
            self.console.print(_indent(Text(message)))
            passage = self.passage_for(finding)
            query_span, source_id, source_span = self.finding_spans(finding, passage)
            differences = passage.differences if passage is not None else ()
            self.console.print(
                _indent(self.comparison(query_span, source_id, source_span, differences))
            )
            if verbose and finding.evidence:
                evidence = ", ".join(
                    f"{key}={json.dumps(to_jsonable(value), ensure_ascii=False)}"
                    for key, value in finding.evidence
                )
                text = Text(
                    "evidence: " + truncate_middle(_one_line(evidence), self.width * 2), style="dim"
                )
                self.console.print(_indent(text))
        self.more(len(shown), len(findings), "findings")

    def passages(self) -> None:
        passages = sorted(
            self.report.passages,
            key=lambda p: (p.query_start, p.query_end, p.source_id, p.source_start),
        )
        if not passages:
            return
        self.rule(f"Passages ({len(passages):,})")
        if not self.report.findings:
            self.legend()
        for number, passage in enumerate(passages, 1):
            line = Text(f"{number}. ")
            line.append(passage.kind.value, style=f"bold {_KIND_STYLE[passage.kind]}")
            for value, style in (
                (
                    passage.attribution,
                    _ATTRIBUTION_STYLE.get(passage.attribution) if passage.attribution else "",
                ),
                (passage.fidelity, ""),
            ):
                if value is not None:
                    line.append(" · ")
                    line.append(value.value, style=style or "")
            line.append(f" · score {passage.score:.2f} · {passage.method}", style="dim")
            self.console.print(line)
            table = self.comparison(
                (passage.query_start, passage.query_end),
                passage.source_id,
                (passage.source_start, passage.source_end),
                passage.differences,
            )
            self.console.print(_indent(table))

    def skipped(self, verbose: bool) -> None:
        skipped = sorted(self.report.skipped, key=lambda s: (s.path, s.reason))
        if not skipped:
            return
        self.rule(f"Skipped ({len(skipped):,})")
        shown = skipped if verbose else self.limited(skipped)
        for item in shown:
            line = Text(
                truncate_middle(_one_line(item.path), max(20, self.width // 2)), style="bold"
            )
            line.append(": ")
            line.append(truncate_middle(_one_line(item.reason), self.width))
            self.console.print(line)
        self.more(len(shown), len(skipped), "skipped inputs")

    def warnings(self) -> None:
        warnings = list(dict.fromkeys((*self.report.query.warnings, *self.report.warnings)))
        if not warnings:
            return
        self.rule(f"Warnings ({len(warnings):,})")
        for warning in warnings:
            self.console.print(
                Text(f"• {truncate_middle(_one_line(warning), self.width * 2)}", style="yellow")
            )


# Control characters from documents (ESC above all) would reach the terminal as commands:
# each is shown as its Unicode "control picture" instead, one character for one, so every
# offset still points at the same place.
_CONTROLS = {c: 0x2400 + c for c in range(0x20) if chr(c) not in "\t\n\r"}
_CONTROLS.update({0x7F: 0x2421})
_CONTROLS.update({c: 0xFFFD for c in range(0x80, 0xA0)})


def _safe(text: str | None) -> str | None:
    return text.translate(_CONTROLS) if text is not None else None


def _defanged(report: Report) -> Report:
    def doc(d: Document) -> Document:
        return replace(
            d, id=_safe(d.id) or "", text=_safe(d.text) or "", path=_safe(d.path),
            title=_safe(d.title), author=_safe(d.author), date=_safe(d.date),
            warnings=tuple(_safe(w) or "" for w in d.warnings),
        )

    return replace(
        report,
        query=doc(report.query),
        sources=tuple(doc(d) for d in report.sources),
        passages=tuple(replace(p, source_id=_safe(p.source_id) or "") for p in report.passages),
        citations=tuple(
            replace(c, text=_safe(c.text) or "", source_id=_safe(c.source_id))
            for c in report.citations
        ),
        findings=tuple(
            replace(f, message=_safe(f.message) or "", source_id=_safe(f.source_id))
            for f in report.findings
        ),
        skipped=tuple(
            replace(k, path=_safe(k.path) or "", reason=_safe(k.reason) or "")
            for k in report.skipped
        ),
        warnings=tuple(_safe(w) or "" for w in report.warnings),
    )


def render_terminal(
    report: Report,
    console: Console,
    *,
    verbose: bool = False,
    quiet: bool = False,
    excerpt_chars: int = 240,
    max_items: int | None = 25,
) -> None:
    """Print a report for a person at a terminal.

    Args:
        report: the report to print.
        console: where to print; works on terminals, files and pipes alike, with or
            without colour.
        verbose: also print every passage side by side with its source, every finding's
            evidence, and every list in full.
        quiet: print one line only: the verdict and counts.
        excerpt_chars: longest excerpt printed; longer ones lose their middle.
        max_items: most sources, findings and skipped inputs listed unless ``verbose``
            (``None``: no limit).

    Raises:
        SettingsError: ``quiet`` and ``verbose`` together, or an ``excerpt_chars`` or
            ``max_items`` that cannot work.
    """
    if quiet and verbose:
        raise SettingsError("quiet and verbose cannot be combined")
    report = _defanged(report)
    if excerpt_chars < 20:
        raise SettingsError(f"excerpt_chars must be at least 20, not {excerpt_chars}")
    if max_items is not None and max_items < 1:
        raise SettingsError(f"max_items must be at least 1 (or None for no limit), not {max_items}")
    renderer = _Renderer(report, console, excerpt_chars, None if verbose else max_items)
    if quiet:
        renderer.quiet()
        return
    renderer.header()
    renderer.tables()
    renderer.findings(verbose)
    if verbose:
        renderer.passages()
    renderer.skipped(verbose)
    renderer.warnings()


__all__ = ["render_terminal", "truncate_middle"]
