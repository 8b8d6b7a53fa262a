"""One paging helper for every service: a strategy says where the next page is, one guard stops loops.

The strategies are the four ways our services page: `LinkHeader` (Freshservice lists, a
`Link: <...>; rel="next"` header), `JsonNextLink` (Graph's opaque `@odata.nextLink`, followed as
given), `Cursor` (SentinelOne's `pagination.nextCursor`, null at the end) and `PageNumber`
(Freshservice's ticket filter: `page=N`, no link, a cap on pages). `paginate` asks a client's
`fetch(token)` for each page and yields it; `PageGuard` is the one loop guard: at most `max_pages`
pages, a next link or cursor seen before is an error, and a link is followed only on the service's
own origin (the request carries our key or token).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from utils.core.errors import APIError
from utils.services.http import same_origin_link

MAX_PAGES = 10_000  # a guard against a server that never ends a listing (an endless next link or cursor)

Token = str | int  # what a strategy hands back to ask for the next page: a link, a cursor, a page number


@dataclass
class Page:
    """One page as a client read it: its items, and what the strategy reads the next token from."""

    items: list[Any]
    body: Any = None
    response: requests.Response | None = None


@dataclass
class PageGuard:
    """The one loop guard: a page cap, no token twice, links only on `base_url`'s origin.

    `error` is the client's own error type; `where`, when given, closes its messages in brackets (such
    as "tenant contoso.com"). `first` is the first request's URL, so a link back to it is a repeat.
    """

    service: str
    path: str
    max_pages: int = MAX_PAGES
    base_url: str | None = None
    error: type[APIError] = APIError
    where: str = ""
    first: str | None = None
    _seen: set[Token] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.first is not None:
            self._seen.add(self.first)

    def numbers(self) -> Iterator[int]:
        """Page numbers from 1; asking for page `max_pages + 1` raises instead of looping for ever."""
        yield from range(1, self.max_pages + 1)
        raise self.fail(f"did not end after {self.max_pages} pages")

    def visited(self, url: str) -> None:
        """A page was read from `url`: a next link back to it is a loop."""
        self._seen.add(url)

    def follow(self, token: Token, kind: str) -> Token:
        """`token` when it may be followed: a link on our origin that was not seen before, a new cursor."""
        if kind == "link" and isinstance(token, str) and self.base_url is not None:
            try:
                same_origin_link(token, self.base_url)
            except APIError as exc:
                raise self.fail(f"has a next link: {exc}") from None
        if token in self._seen:
            raise self.fail(f"sent the same next page {kind} twice")
        self._seen.add(token)
        return token

    def fail(self, what: str, status: int | None = None) -> APIError:
        """The client's own error, naming the service and the path (never a link's query, never a secret)."""
        return self.error(f"{self.service} {self.path} {what}" + (f" ({self.where})" if self.where else ""), status, self.path)


class PageStrategy(Protocol):
    """How one service says where the next page is; None ends the listing."""

    kind: str  # "link", "cursor" or "page": how the guard words a repeat

    def next_token(self, page: Page, number: int, guard: PageGuard) -> Token | None: ...


@dataclass
class LinkHeader:
    """A `Link: <url>; rel="next"` header (Freshservice lists); an empty page ends the listing too."""

    kind: str = "link"

    def next_token(self, page: Page, number: int, guard: PageGuard) -> Token | None:
        if not page.items or page.response is None:
            return None
        return page.response.links.get("next", {}).get("url") or None


@dataclass
class JsonNextLink:
    """A next link inside the body (Graph's `@odata.nextLink`), followed exactly as given: never rebuilt."""

    name: str = "@odata.nextLink"
    kind: str = "link"

    def next_token(self, page: Page, number: int, guard: PageGuard) -> Token | None:
        link = page.body.get(self.name) if isinstance(page.body, dict) else None
        return link if isinstance(link, str) and link else None


@dataclass
class Cursor:
    """An opaque cursor read from the body (SentinelOne's `pagination.nextCursor`); null or "" ends.

    Never `totalItems` nor an empty page: SentinelOne can read 0 once a cursor is sent, and can
    serve an empty page before the last one. A cursor that is not text cannot be sent back.
    """

    read: Callable[[Any], Any]
    kind: str = "cursor"

    def next_token(self, page: Page, number: int, guard: PageGuard) -> Token | None:
        cursor = self.read(page.body)
        if cursor is None or cursor == "":
            return None
        if not isinstance(cursor, str):
            where = f" ({guard.where})" if guard.where else ""
            raise guard.error(f"{guard.service} sent a page cursor for {guard.path} that is not text ({json_kind(cursor)}); "
                              f"the listing cannot continue{where}", 200, guard.path)
        return cursor


@dataclass
class PageNumber:
    """`page=N` paging without a link (Freshservice's ticket filter): a short page or the cap ends it.

    Reaching the cap is not an error here: the filter stops at `cap` pages by design, and its
    caller compares what it read with the body's `total` to split the query.
    """

    cap: int
    page_size: int
    kind: str = "page"

    def next_token(self, page: Page, number: int, guard: PageGuard) -> Token | None:
        return number + 1 if number < self.cap and len(page.items) >= self.page_size else None


def paginate(fetch: Callable[[Token | None], Page], strategy: PageStrategy, guard: PageGuard, *,
             first: Page | None = None, stop: Callable[[Page], bool] | None = None) -> Iterator[Page]:
    """Yield every page: `fetch(None)` (or `first`, when the caller already read it), then `fetch(token)`.

    `stop(page)` true after a page ends the listing early (the caller has what it needs).
    """
    token: Token | None = None
    for number in guard.numbers():
        page = first if first is not None and number == 1 else fetch(token)
        if page.response is not None:
            guard.visited(page.response.url)
        yield page
        if stop is not None and stop(page):
            return
        token = strategy.next_token(page, number, guard)
        if token is None:
            return
        token = guard.follow(token, strategy.kind)


def json_kind(value: Any) -> str:
    """What a JSON value is, in words, for an error line (never the value itself: it comes from the server)."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    return "an object" if isinstance(value, dict) else "a list" if isinstance(value, list) else "not text"
