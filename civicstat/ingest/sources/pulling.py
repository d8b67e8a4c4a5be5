"""Pulling pages of requests from a web API: the one engine every pull shares.

`http_fetcher` is one HTTP session that retries a dropped connection or a 429 / 5xx answer with
backoff (urllib3's Retry, honouring Retry-After up to RETRY_AFTER_MAX), and refuses a response
larger than MAX_RESPONSE_BYTES as it arrives, never holding it whole. `pages` is the paging loop:
it asks a dialect for each page's URL, reads the page with the dialect's parser, and ends at an
empty page, at the page the API says is the last, or at a page that repeats what came before (a
server that ignores the page or offset it was given: the end for Open311, an error where the
dialect says so); a server still paging after `max_pages` is an error, never a silent cut.

The dialects are the callers: Open311 GeoReport (sources.open311) and the open-data portals,
Socrata, ArcGIS and CKAN (sources.portals).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from civicstat.core.errors import excerpt
from civicstat.ingest.sources.base import InputError

Fetch = Callable[[str], bytes]
# One response at most (a page of 500 requests is well under 1 MB); a larger one is refused as it
# arrives, never held whole.
MAX_RESPONSE_BYTES = 64 * 2**20
RETRIES = 5  # per request, for a dropped connection or a 429 / 5xx answer
BACKOFF_SECONDS = 1.0  # urllib3's backoff_factor: waits of 0, 2, 4, 8, 16 s (or Retry-After)
RETRY_STATUSES = (429, 500, 502, 503, 504)
RETRY_AFTER_MAX = 300  # seconds: a longer Retry-After is waited this long, then asked again
ERROR_EXCERPT_BYTES = 4096  # of a 4xx answer's body, for the message (the API's own words)
USER_AGENT = "civicstat (pull)"


def http_fetcher(timeout: float = 60.0, retries: int | None = None,
                 backoff: float | None = None, *, headers: Mapping[str, str] | None = None,
                 server: str = "the server") -> Fetch:
    """A GET function over one HTTP session that retries transient failures with backoff
    (urllib3's Retry); InputError with the URL and the last status or reason once they run out.
    HEADERS are sent with every request (an app token); SERVER names it in messages."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=RETRIES if retries is None else retries,
        backoff_factor=BACKOFF_SECONDS if backoff is None else backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        retry_after_max=RETRY_AFTER_MAX,
        raise_on_status=False,  # the last answer comes back, for a message with its status
    )
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.headers.update(headers or {})
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)

    def get(url: str) -> bytes:
        try:
            response = session.get(url, timeout=timeout, stream=True)
        except requests.RequestException as exc:
            reason = exc.args[0] if exc.args else exc
            reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError holds the cause
            raise InputError(f"{url}: cannot reach {server} ({reason})") from None
        with response:
            if response.status_code >= 400:
                tries = "" if response.status_code not in RETRY_STATUSES else (
                    f", still after {retry.total} retries")
                said = "" if response.status_code in RETRY_STATUSES else _error_text(response)
                raise InputError(f"{url}: the server answered HTTP {response.status_code} "
                                 f"{response.reason}{tries}{said}")
            return body_within_limit(response, url)

    return get


def _error_text(response) -> str:
    """': <what the API said>' from the start of an error answer's body ('' when nothing)."""
    try:
        head = next(response.iter_content(chunk_size=ERROR_EXCERPT_BYTES), b"")
    except Exception:  # the status is the message; the body is a courtesy
        return ""
    text = head.decode("utf-8", errors="replace").strip()
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict):  # Socrata {"message"}, ArcGIS {"error": {...}}, CKAN {"error"}
        inner = document.get("error")
        inner = inner if isinstance(inner, dict) else document
        text = str(inner.get("message") or inner.get("description") or text)
    return f": {excerpt(text, 200)}" if text else ""


def body_within_limit(response, url: str, limit: int | None = None) -> bytes:
    """The response's body; InputError as soon as it passes the limit (MAX_RESPONSE_BYTES)."""
    limit = MAX_RESPONSE_BYTES if limit is None else limit
    size = f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit:,} bytes"
    too_big = InputError(f"{url}: the response is larger than {size}; ask for smaller pages "
                         "(--page-size) or fewer days")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    body = bytearray()
    for chunk in response.iter_content(chunk_size=1 << 16):
        body += chunk
        if len(body) > limit:
            raise too_big
    return bytes(body)


def with_query(url: str, params: Mapping[str, object]) -> str:
    """URL with PARAMS set in its query (replacing any of the same name, keeping the others)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in query if k not in params] + [(k, str(v)) for k, v in params.items()]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def http_url(url: str) -> urllib.parse.SplitResult:
    """URL's parts; InputError unless it is http(s)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"{url}: not an http(s) URL")
    return parts


# --- the paging loop ------------------------------------------------------------------------


@dataclass
class Page:
    """One answer: its URL and body, the request records it holds, and whether the API says
    nothing follows (CKAN's total reached, ArcGIS's exceededTransferLimit false)."""

    url: str
    data: bytes
    records: list
    last: bool = False


def pages(
    fetch: Fetch,
    url_for: Callable[[int, int], str],
    parse: Callable[[bytes, str], tuple[list, bool]],
    *,
    max_pages: int,
    record_id: Callable[[dict], object] | None = None,
    repeat_is_error: bool = False,
    still_paging: Callable[[], str] | None = None,
) -> Iterator[Page]:
    """The pages of one query, first to last.

    URL_FOR(number, offset) is the URL of page NUMBER (from 1), OFFSET records after the first;
    PARSE(body, url) gives its records and whether the API marks it the last. Paging ends at an
    empty page, a last one, or a page equal to the previous one or holding only records seen
    before (RECORD_ID, where the records have ids): a server that ignores the page or offset it
    was asked for. With REPEAT_IS_ERROR that is an InputError (the rest of the data would be
    missing) instead of the end. A server still paging after MAX_PAGES pages is an InputError
    (STILL_PAGING() writes its message, with what the caller knows); nothing is dropped silently.
    """
    previous, seen, offset = None, set(), 0
    for number in range(1, max_pages + 1):
        url = url_for(number, offset)
        data = fetch(url)
        records, last = parse(data, url)
        ids = {record_id(r) for r in records if isinstance(r, dict)} if record_id else set()
        ids.discard(None)
        if not records:
            return
        if data == previous or (ids and ids <= seen):
            if repeat_is_error:
                raise InputError(f"{url}: the server answered this page with records it had "
                                 "already sent: it ignores the paging parameters, and the pull "
                                 "would be incomplete")
            return  # a server that ignores the page, or cycles through its answers
        yield Page(url, data, records, last)
        if last:
            return
        previous, offset = data, offset + len(records)
        seen |= ids
    raise InputError(still_paging() if still_paging else
                     f"{url_for(1, 0)}: the server was still paging after {max_pages:,} pages")
