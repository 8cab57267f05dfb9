"""One branch of a story as a readable book: Markdown, standalone HTML and EPUB, from data alone.

Every string in a `Book` came from a player or a model, so nothing here trusts it: HTML and EPUB
go through autoescaping templates, and Markdown escapes whatever would change the structure.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import jinja2
from ebooklib import epub
from markupsafe import Markup

TEMPLATES = Path(__file__).parent / "templates"
NO_TURNS = "This story has no turns yet."


@dataclass(frozen=True)
class BookTurn:
    number: int
    action: str
    passage: str


@dataclass(frozen=True)
class Chapter:
    title: str
    turns: tuple[BookTurn, ...]


@dataclass(frozen=True)
class Book:
    title: str
    premise: str
    genre: str | None
    setting: str | None
    protagonist: str | None
    branch: str
    chapters: tuple[Chapter, ...]
    exported_at: datetime
    identifier: str
    language: str = "en"


def paragraphs(text: str) -> list[str]:
    """Blank lines separate paragraphs; a single newline is a soft wrap and becomes a space.

    Joining each paragraph onto one line is also what keeps Markdown safe: a structure that needs
    a second line (a table, a setext heading) cannot be formed inside a paragraph.
    """
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    return [joined for block in blocks if (joined := " ".join(block.split()))]


def _utc(when: datetime) -> datetime:
    """A naive `exported_at` is taken as UTC, so the output never depends on the host's zone."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _facts(book: Book) -> list[tuple[str, str]]:
    optional = [("Genre", book.genre), ("Setting", book.setting), ("Protagonist", book.protagonist)]
    exported = _utc(book.exported_at).strftime("%Y-%m-%d %H:%M UTC")
    facts = [(label, value) for label, value in optional if value]
    return [*facts, ("Branch", book.branch), ("Exported", exported)]


def _chapters(book: Book) -> list[Chapter]:
    """A chapter without turns would be a heading over nothing; the book leaves it out."""
    return [chapter for chapter in book.chapters if chapter.turns]


# Markdown


_MD_PUNCTUATION = re.compile(r"[\\`*_\[\]]")
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")
_MD_ORDERED = re.compile(r"^(\d+)([.)])")


def _md_inline(text: str) -> str:
    """Escape emphasis, code, links and HTML; `<` becomes `&lt;` so no tag or autolink forms."""
    text = _MD_PUNCTUATION.sub(r"\\\g<0>", " ".join(text.split()))
    return _MD_ENTITY.sub(r"\\&", text).replace("<", "&lt;")


def _md_block(text: str) -> str:
    """Also escape what would start a heading, quote, list, rule or fence at a line's start."""
    text = _md_inline(text)
    if text[:1] in ("#", ">", "+", "-", "~", "="):
        return "\\" + text
    return _MD_ORDERED.sub(r"\1\\\2", text)


def _md_heading(level: int, text: str) -> str:
    """`#` is escaped all through a heading: a trailing run would read as its closing sequence."""
    return "#" * level + " " + _md_inline(text).replace("#", "\\#")


def markdown_chunks(book: Book) -> Iterator[str]:
    """The book as CommonMark, one chunk per turn so a response can stream it as it renders."""
    header = [_md_heading(1, book.title), ""]
    header += [f"- **{label}:** {_md_inline(value)}" for label, value in _facts(book)]
    for paragraph in paragraphs(book.premise):
        header += ["", _md_block(paragraph)]
    chapters = _chapters(book)
    if not chapters:
        header += ["", f"*{NO_TURNS}*"]
    yield "\n".join(header) + "\n"
    for chapter in chapters:
        yield f"\n{_md_heading(2, chapter.title)}\n"
        for turn in chapter.turns:
            lines = [f"> **Turn {turn.number}.** {_md_inline(turn.action)}".rstrip()]
            lines += [_md_block(paragraph) for paragraph in paragraphs(turn.passage)]
            yield "".join(f"\n{line}\n" for line in lines)


# HTML


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _html(macro: str, *args: object) -> str:
    """Call one macro of the book template; the pieces are rendered separately to stream them."""
    module = _templates().get_template("story_book.html.j2").module
    return str(getattr(module, macro)(*args))


def _html_front(book: Book) -> str:
    return _html("front", book, _facts(book), paragraphs(book.premise))


def _html_turn(turn: BookTurn) -> str:
    return _html("turn", turn.number, " ".join(turn.action.split()), paragraphs(turn.passage))


def _anchor(index: int) -> str:
    """Anchors come from the position, never the title: titles repeat and need no slugging."""
    return f"chapter-{index}"


def html_chunks(book: Book) -> Iterator[str]:
    """A standalone HTML5 page (inline stylesheet, no scripts), streamed header, turn by turn."""
    chapters = _chapters(book)
    toc = [(_anchor(index), chapter.title) for index, chapter in enumerate(chapters, 1)]
    front = Markup(_html_front(book))  # already escaped by its own macro; not escaped twice
    yield _html("document_start", book, front, toc)
    if not chapters:
        yield _html("no_turns")
    for index, chapter in enumerate(chapters, 1):
        yield _html("chapter_start", _anchor(index), chapter.title)
        for turn in chapter.turns:
            yield _html_turn(turn)
        yield _html("chapter_end")
    yield _html("document_end")


# EPUB

_STYLESHEET = "style/story_book.css"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def epub_bytes(book: Book) -> bytes:
    """An EPUB 3 (with NCX for older readers): a title page, then one document per chapter."""
    modified = _utc(book.exported_at)
    document = epub.EpubBook()
    document.set_identifier(book.identifier)
    document.set_title(book.title)
    document.set_language(book.language)
    document.add_metadata("DC", "date", modified.strftime("%Y-%m-%dT%H:%M:%SZ"))
    document.add_metadata("DC", "description", book.premise)
    if book.genre:
        document.add_metadata("DC", "subject", book.genre)
    css = (TEMPLATES / "story_book.css").read_text(encoding="utf-8")
    document.add_item(
        epub.EpubItem(uid="style", file_name=_STYLESHEET, media_type="text/css", content=css)
    )

    title_page = _html_front(book) + ("" if _chapters(book) else _html("no_turns"))
    pages = [("title", "title.xhtml", book.title, title_page)]
    for index, chapter in enumerate(_chapters(book), 1):
        body = _html("chapter_start", _anchor(index), chapter.title)
        body += "".join(_html_turn(turn) for turn in chapter.turns) + _html("chapter_end")
        pages.append((_anchor(index), f"{_anchor(index)}.xhtml", chapter.title, body))

    spine: list[object] = []
    for uid, file_name, title, body in pages:
        page = epub.EpubHtml(uid=uid, file_name=file_name, title=title, lang=book.language)
        page.content = body
        page.add_link(href=_STYLESHEET, rel="stylesheet", type="text/css")
        document.add_item(page)
        spine.append(page)
    document.toc = spine
    document.spine = spine
    document.add_item(epub.EpubNcx())
    document.add_item(epub.EpubNav())

    buffer = io.BytesIO()
    epub.write_epub(buffer, document, {"mtime": modified, "raise_exceptions": True})
    return _restamp(buffer.getvalue(), modified)


def _restamp(archive: bytes, when: datetime) -> bytes:
    """ebooklib 0.20 stamps each zip entry with the wall clock; equal books must be equal bytes."""
    stamp = max((when.year, when.month, when.day, when.hour, when.minute, when.second), _ZIP_EPOCH)
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(output, "w") as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = info.compress_type
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    return output.getvalue()
