"""The story book: every turn in order, in all three formats, with story text never read as markup.

Markdown is checked by parsing it with a CommonMark parser (markdown-it-py, which rich already
depends on), HTML with the standard library's parser, and EPUB by reading it back with ebooklib.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

from ebooklib import epub
from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from luna_narrates.formats.story_book import (
    Book,
    BookTurn,
    Chapter,
    epub_bytes,
    html_chunks,
    markdown_chunks,
    paragraphs,
)

ANY_TEXT = st.characters(exclude_categories=["Cs"])
# CommonMark turns NUL into U+FFFD on purpose, so it cannot read back unchanged.
PROSE = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
HOSTILE = "# not a heading\n<script>alert(1)</script> and [a link](http://x)\n\n- not a list"
EXPORTED = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def make_book(*chapters: Chapter, title: str = "The Salt Road") -> Book:
    return Book(
        title=title,
        premise="A caravan crosses the salt flats.\n\nNobody trusts the guide.",
        genre="Fantasy",
        setting="The Glass Desert",
        protagonist="Ysolde",
        branch="Main",
        chapters=chapters,
        exported_at=EXPORTED,
        identifier="story-42",
    )


def sample_book() -> Book:
    return make_book(
        Chapter(
            "Arrival",
            (
                BookTurn(1, "I look around.", "Dunes, white as bone.\n\nThe wind\nnever stops."),
                BookTurn(2, "I open the door.", HOSTILE),
            ),
        ),
        Chapter("Turns 3–3", (BookTurn(3, "I ask the guide's name.", "She says nothing."),)),
    )


def empty_book() -> Book:
    return make_book(Chapter("Nothing yet", ()))


def markdown_tokens(text: str) -> list[Token]:
    return MarkdownIt("commonmark").parse(text)


def plain(inline: Token) -> str:
    """What a reader sees of an inline run: escapes and entities resolved, no markup."""
    return "".join(child.content for child in inline.children or [])


class Page(HTMLParser):
    """Records what the tests look at, and checks that every element that opens also closes."""

    VOID = frozenset({"meta", "link", "br", "img", "hr", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.paragraphs: list[tuple[str | None, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        if tag not in self.VOID:
            self.open.append(tag)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        if tag == "p":
            self.paragraphs.append((values.get("class"), ""))

    def handle_endtag(self, tag: str) -> None:
        assert self.open.pop() == tag

    def handle_data(self, data: str) -> None:
        if "p" in self.open:
            kind, text = self.paragraphs[-1]
            self.paragraphs[-1] = (kind, text + data)

    def of_class(self, kind: str | None) -> list[str]:
        return [text for k, text in self.paragraphs if k == kind]


def parse_html(document: str) -> Page:
    page = Page()
    page.feed(document)
    page.close()
    assert page.open == [], "every element is closed"
    return page


def read_back(data: bytes, tmp_path: Path) -> epub.EpubBook:
    path = tmp_path / "book.epub"
    path.write_bytes(data)
    return epub.read_epub(str(path), {"ignore_ncx": False})


def spine_documents(book: epub.EpubBook) -> list[str]:
    return [book.get_item_with_id(idref).get_content().decode() for idref, _ in book.spine]


# Markdown


def test_markdown_has_the_title_chapters_and_every_turn_in_order() -> None:
    chunks = list(markdown_chunks(sample_book()))
    text = "".join(chunks)

    assert len(chunks) == 1 + 2 + 3, "header, two chapter headings, one chunk per turn"
    assert text.startswith("# The Salt Road\n")
    assert "- **Branch:** Main" in text and "- **Exported:** 2025-03-04 05:06 UTC" in text
    order = [
        "## Arrival",
        "> **Turn 1.** I look around.",
        "Dunes, white as bone.",
        "The wind never stops.",
        "> **Turn 2.** I open the door.",
        "## Turns 3–3",
        "> **Turn 3.** I ask the guide's name.",
        "She says nothing.",
    ]
    positions = [text.index(piece) for piece in order]
    assert positions == sorted(positions)


def test_markdown_story_text_cannot_add_headings_links_lists_or_html() -> None:
    tokens = markdown_tokens("".join(markdown_chunks(sample_book())))
    headings = [plain(tokens[i + 1]) for i, t in enumerate(tokens) if t.type == "heading_open"]
    inline = [child.type for t in tokens if t.children for child in t.children]
    blocks = [t.type for t in tokens]

    assert headings == ["The Salt Road", "Arrival", "Turns 3–3"]
    assert blocks.count("bullet_list_open") == 1, "only the book's facts are a list"
    assert blocks.count("list_item_open") == 5
    assert not set(blocks) & {"html_block", "ordered_list_open", "fence", "code_block", "hr"}
    assert not set(inline) & {"html_inline", "link_open", "image"}
    rendered = MarkdownIt("commonmark").render("".join(markdown_chunks(sample_book())))
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered


def test_markdown_escapes_a_hostile_title() -> None:
    text = "".join(markdown_chunks(make_book(title="Tower ## <b>x</b> [y](z)")))
    tokens = markdown_tokens(text)

    assert tokens[0].type == "heading_open"
    assert plain(tokens[1]) == "Tower ## <b>x</b> [y](z)"
    assert "<b>" not in MarkdownIt("commonmark").render(text)


TRICKY = (
    "# h\n\n## h #\n\n> q\n\n- a\n\n+ b\n\n* c\n\n1. d\n\n2) e\n\n***\n\n---\n\n___\n\n===",
    "```py\ncode\n```\n\n~~~\n\n    indented\n\n<div>x</div>\n\n<!-- c -->",
    "[ref]: /url\n\n[ref] ![img](x.png) <http://x> `tick` *em* _em_ **b** \\* a\\\nb",
    "&amp; &#65; &#x41; &copy; & fish &notanentity; a | b\n| - |",
)


@example(TRICKY[0])
@example(TRICKY[1])
@example(TRICKY[2])
@example(TRICKY[3])
@given(st.text(PROSE))
def test_markdown_passage_reads_back_as_the_same_plain_paragraphs(passage: str) -> None:
    book = make_book(Chapter("One", (BookTurn(1, "I wait.", passage),)))
    tokens = markdown_tokens("".join(markdown_chunks(book)))
    last_quote = max(i for i, t in enumerate(tokens) if t.type == "blockquote_close")
    after = tokens[last_quote + 1 :]
    texts = [plain(t) for t in after if t.type == "inline"]

    assert [t.type for t in after if t.type.endswith("_open")] == ["paragraph_open"] * len(texts)
    assert texts == paragraphs(passage)


# HTML


def test_html_is_a_standalone_document_with_escaped_story_text() -> None:
    chunks = list(html_chunks(sample_book()))
    document = "".join(chunks)
    page = parse_html(document)

    assert len(chunks) == 1 + 2 * 2 + 3 + 1, "start, chapter open/close, one per turn, end"
    assert document.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert '<meta charset="utf-8">' in document and "prefers-color-scheme: dark" in document
    assert "script" not in page.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert page.of_class("action") == [
        "Turn 1. I look around.",
        "Turn 2. I open the door.",
        "Turn 3. I ask the guide's name.",
    ]
    assert page.of_class(None) == [
        "A caravan crosses the salt flats.",
        "Nobody trusts the guide.",
        "Dunes, white as bone.",
        "The wind never stops.",
        "# not a heading <script>alert(1)</script> and [a link](http://x)",
        "- not a list",
        "She says nothing.",
    ]


def test_html_table_of_contents_links_to_each_chapter() -> None:
    page = parse_html("".join(html_chunks(sample_book())))

    assert page.links == ["#chapter-1", "#chapter-2"]
    assert {link.removeprefix("#") for link in page.links} <= page.ids


@example(TRICKY[0] + TRICKY[1] + TRICKY[2] + TRICKY[3])
@given(st.text(ANY_TEXT))
def test_html_passage_reads_back_as_the_same_paragraphs(passage: str) -> None:
    book = make_book(Chapter("One", (BookTurn(1, "I wait.", passage),)))
    page = parse_html("".join(html_chunks(book)))
    kinds = [kind for kind, _ in page.paragraphs]
    after_action = page.paragraphs[kinds.index("action") + 1 :]

    assert [text for _, text in after_action] == paragraphs(passage)


# EPUB


def test_epub_reads_back_with_metadata_and_chapters_in_spine_order(tmp_path: Path) -> None:
    book = read_back(epub_bytes(sample_book()), tmp_path)
    documents = spine_documents(book)

    assert book.get_metadata("DC", "title")[0][0] == "The Salt Road"
    assert book.get_metadata("DC", "language")[0][0] == "en"
    assert book.get_metadata("DC", "identifier")[0][0] == "story-42"
    assert [idref for idref, _ in book.spine] == ["title", "chapter-1", "chapter-2"]
    assert "Ysolde" in documents[0] and "The Glass Desert" in documents[0]
    assert "2025-03-04 05:06 UTC" in documents[0] and "Main" in documents[0]
    assert "I look around." in documents[1] and "I ask the guide" in documents[2]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in documents[1]
    assert "<script" not in documents[1]
    assert [link.title for link in book.toc] == ["The Salt Road", "Arrival", "Turns 3–3"]


def test_epub_is_byte_identical_and_stamped_with_the_export_time() -> None:
    data = epub_bytes(sample_book())

    assert data == epub_bytes(sample_book())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist()[0] == "mimetype"
        assert {info.date_time for info in archive.infolist()} == {(2025, 3, 4, 5, 6, 6)}
        opf = archive.read("EPUB/content.opf").decode()
    assert '<meta property="dcterms:modified">2025-03-04T05:06:07Z</meta>' in opf


# The empty book


def test_an_empty_book_renders_in_every_format(tmp_path: Path) -> None:
    markdown = "".join(markdown_chunks(empty_book()))
    html = "".join(html_chunks(empty_book()))
    book = read_back(epub_bytes(empty_book()), tmp_path)

    assert "*This story has no turns yet.*" in markdown and "##" not in markdown
    page = parse_html(html)
    assert page.of_class("empty") == ["This story has no turns yet."]
    assert page.links == [] and "nav" not in page.tags
    assert [idref for idref, _ in book.spine] == ["title"]
    assert "This story has no turns yet." in spine_documents(book)[0]
