"""Incident channel names: `{prefix}-{YYYYMMDD}-{slug}[-N]`, always acceptable to Slack.

Slack accepts only lowercase ASCII letters, digits, hyphens and underscores, at most 80
characters, so a title in any script has to be folded into that alphabet and trimmed.
"""

import re
import unicodedata
from datetime import date

from anyascii import anyascii

MAX_CHANNEL_NAME = 80
# Room kept free for the "-2" … "-99" that channel creation appends on `name_taken`, so the
# collision suffix never forces the slug to be cut differently from the first attempt.
SUFFIX_RESERVE = 3
FALLBACK_SLUG = "incident"

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def _without_symbols(text: str) -> str:
    """Drop emoji, pictographs and invisible format characters before transliteration.

    anyascii spells emoji as ":fire:" and flag tags as letters, which would turn an emoji-only
    title into a word nobody typed; symbols (categories S*) and format characters (Cf, such
    as zero-width joiners and tag characters) carry no words, so they go.
    """
    return "".join(
        char
        for char in text
        if not unicodedata.category(char).startswith("S") and unicodedata.category(char) != "Cf"
    )


def slugify(title: str, max_length: int) -> str:
    """Fold a title into at most `max_length` characters of `[a-z0-9-]`, cut between words.

    The result never starts or ends with a hyphen and is "incident" (or as much of it as
    fits) when the title has nothing transliterable. When even the first word is longer than
    `max_length`, that word is cut mid-way because a name must never be empty.
    """
    if max_length < 1:
        raise ValueError(f"max_length must be at least 1, not {max_length}")
    ascii_text = anyascii(_without_symbols(title)).lower()
    slug = _NOT_ALNUM.sub("-", ascii_text).strip("-") or FALLBACK_SLUG
    if len(slug) <= max_length:
        return slug
    if slug[max_length] == "-":
        return slug[:max_length]
    word_end = slug.rfind("-", 0, max_length)
    return slug[:word_end] if word_end > 0 else slug[:max_length]


def channel_name(title: str, *, day: date, prefix: str = "inc", suffix: int | None = None) -> str:
    """Build the channel name for an incident titled `title` declared on `day`.

    `day` is the declaration date in the configured time zone (the caller's concern).
    `suffix` (2, 3, …) is appended after a `name_taken` answer; the slug is cut so that the
    name stays within Slack's 80 characters with any suffix up to 99, and shorter still for
    the rare larger one. `prefix` is trusted to be a valid fragment (the config checks it).
    """
    if suffix is not None and suffix < 2:
        raise ValueError(f"suffix must be 2 or more, not {suffix}")
    head = f"{prefix}-{day:%Y%m%d}-"
    tail = "" if suffix is None else f"-{suffix}"
    room = MAX_CHANNEL_NAME - len(head) - max(SUFFIX_RESERVE, len(tail))
    return head + slugify(title, room) + tail
