"""The post-mortem's Markdown as Confluence's storage format (XHTML).

markdown-it turns the same document that is uploaded to Slack into XHTML,
with raw HTML off so that nothing a responder typed becomes markup or a
Confluence macro. The one piece of HTML the document itself writes, ``<br>``
for a line break inside a table cell, is put back as a real line break.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

_ESCAPED_BREAK = "&lt;br&gt;"


def storage_format(markdown: str) -> str:
    """XHTML that Confluence accepts as a page body (``representation = "storage"``)."""
    parser = MarkdownIt("commonmark", {"html": False, "xhtmlOut": True}).enable(["table", "strikethrough"])
    return parser.render(markdown).replace(_ESCAPED_BREAK, "<br />")
