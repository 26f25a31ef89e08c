"""The ``[confluence]`` table and its secrets."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from bot.config.fields import HttpUrl
from bot.config.problems import show

_SPACE_KEY = re.compile(r"~?[A-Za-z0-9]{1,255}")
_PAGE_ID = re.compile(r"[0-9]{1,20}")


class ConfluenceConfig(BaseModel):
    """Where post-mortems are published as pages: a site, a space, optionally under a parent page."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl
    space: str
    parent_page_id: str | None = None

    @field_validator("url")
    @classmethod
    def _site(cls, value: str) -> str:
        """Accept the site (``https://example.atlassian.net``) or its wiki (``…/wiki``); keep the site."""
        return value.removesuffix("/wiki")

    @field_validator("space")
    @classmethod
    def _space_key(cls, value: str) -> str:
        if not _SPACE_KEY.fullmatch(value):
            raise ValueError(f'{show(value)} is not a Confluence space key (letters and digits, e.g. "OPS")')
        return value

    @field_validator("parent_page_id", mode="before")
    @classmethod
    def _page_id(cls, value: object) -> object:
        """A page id as Confluence shows it in the page's URL; a TOML integer is fine too."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and not _PAGE_ID.fullmatch(value):
            raise ValueError(f"{show(value)} is not a Confluence page id (the digits in the page's URL)")
        return value


class ConfluenceSecrets(BaseModel):
    """Confluence's credentials, from the environment only."""

    confluence_email: str | None = Field(default=None, validation_alias="CONFLUENCE_EMAIL")
    confluence_api_token: SecretStr | None = Field(default=None, validation_alias="CONFLUENCE_API_TOKEN")


def missing_secrets(config: ConfluenceConfig | None, secrets: ConfluenceSecrets) -> list[str]:
    if config is None:
        return []
    needed = {"CONFLUENCE_EMAIL": secrets.confluence_email, "CONFLUENCE_API_TOKEN": secrets.confluence_api_token}
    return [name for name, value in needed.items() if value is None]
