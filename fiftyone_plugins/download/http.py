"""HTTP for downloads: bounded timeouts, a few retries, and a token that never leaks.

Redirects are followed here, hop by hop, rather than by ``requests``: each hop's headers are
rebuilt from scratch and ``Authorization`` is attached only while every hop so far has been
on one of the configured GitHub origins (scheme, host and port of ``github_url`` and
``github_api_url``). A redirect to any other host therefore provably carries no token (GitHub
itself redirects archive downloads to a signed codeload URL that needs none).

``requests`` is imported on first use so that importing the package stays fast.
"""

from __future__ import annotations

import dataclasses
import email.utils
import logging
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from .._version import __version__
from ..errors import (
    DownloadError,
    NetworkError,
    RateLimitError,
    SourceNotFoundError,
    UnsafeArchiveError,
)
from .sources import redact_url

if TYPE_CHECKING:  # pragma: no cover
    import requests

__all__ = [
    "CHUNK_SIZE",
    "MAX_REDIRECTS",
    "RETRY_POLICY",
    "Download",
    "Fetcher",
    "ProgressCallback",
    "RetryPolicy",
    "configured_policy",
]

logger = logging.getLogger(__name__)

#: ``progress(bytes_done, bytes_total_or_None)``, called as the body streams in
ProgressCallback = Callable[[int, "int | None"], None]

MAX_REDIRECTS = 10
CHUNK_SIZE = 64 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)
#: what a token may hold to travel in a header (printable ASCII, no spaces)
_HEADER_SAFE = re.compile(r"^[\x21-\x7e]+$")


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How transient failures (connection errors, timeouts, 5xx, short 429s) are retried."""

    #: extra attempts after the first one
    retries: int = 2
    #: seconds before the first retry; doubled for each further one
    backoff: float = 0.5
    #: a ``Retry-After`` longer than this is reported as a rate limit instead of waited for
    max_retry_after: float = 10.0


#: the policy used by :class:`Fetcher` unless one is given; ``None`` reads the
#: ``download_retries`` and ``download_backoff`` settings (tests set a shorter one here)
RETRY_POLICY: RetryPolicy | None = None


def configured_policy() -> RetryPolicy:
    """The retry policy from the config (``FIFTYONE_DOWNLOAD_RETRIES``/``_BACKOFF``)."""
    from ..config import load_config

    config = load_config()
    return RetryPolicy(retries=config.download_retries, backoff=config.download_backoff)


@dataclasses.dataclass
class Download:
    """What a finished download looked like, for archive detection and messages."""

    path: str
    size: int
    content_type: str
    filename: str | None


class _Transient(Exception):
    """A failure worth another attempt; ``error`` is raised when attempts run out."""

    def __init__(self, error: DownloadError, delay: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.delay = delay


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return (scheme, (parts.hostname or "").lower(), port)


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _format_reset(reset_at: datetime) -> str:
    minutes = max(0, round((reset_at - datetime.now(timezone.utc)).total_seconds() / 60))
    return f"{reset_at.strftime('%Y-%m-%d %H:%M:%S UTC')} (in {minutes} min)"


def _filename(disposition: str | None) -> str | None:
    if not disposition:
        return None
    from email.message import Message

    msg = Message()
    msg["content-disposition"] = disposition
    name = msg.get_filename()
    return str(name) if name else None


class Fetcher:
    """Downloads URLs with retries, sending ``token`` to the GitHub origins only."""

    def __init__(
        self,
        trusted_urls: tuple[str, ...],
        token: str | None = None,
        *,
        timeout: float = 30.0,
        max_bytes: int | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import requests

        self._trusted = {_origin(u) for u in trusted_urls}
        token = (token or "").strip() or None  # `$(cat token-file)` may keep a newline
        if token is not None and not _HEADER_SAFE.match(token):
            raise DownloadError(
                "GITHUB_TOKEN contains spaces, control or non-ASCII characters; "
                "set it to the token alone (its value is not shown)"
            )
        self._token = token
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._policy = policy or RETRY_POLICY or configured_policy()
        self._sleep = sleep
        self._session = requests.Session()

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def is_trusted(self, url: str) -> bool:
        return _origin(url) in self._trusted

    def _headers(self, trusted: bool, accept: str | None) -> dict[str, str]:
        headers = {"User-Agent": f"fiftyone-plugins/{__version__}"}
        if accept:
            headers["Accept"] = accept
        if trusted and self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _open(self, url: str, accept: str | None) -> requests.Response:
        """Sends GET, following redirects by hand so the token stays on GitHub origins."""
        import requests

        trusted = self.is_trusted(url)
        hop = url
        for _ in range(MAX_REDIRECTS + 1):
            trusted = trusted and self.is_trusted(hop)
            try:
                response = self._session.get(
                    hop,
                    headers=self._headers(trusted, accept),
                    stream=True,
                    allow_redirects=False,
                    timeout=(self._timeout, self._timeout),
                )
            except requests.exceptions.Timeout as e:
                raise _Transient(
                    NetworkError(
                        f"Timed out after {self._timeout:g}s fetching {redact_url(url)}", url=url
                    )
                ) from e
            except requests.exceptions.InvalidHeader:  # its message quotes the header: no chain
                raise DownloadError(
                    f"Cannot send the request to {urlsplit(hop).hostname}: invalid header value",
                    url=url,
                ) from None
            except requests.exceptions.InvalidURL as e:
                raise DownloadError(f"Invalid URL {redact_url(hop)}", url=url) from e
            except requests.exceptions.SSLError as e:  # deterministic: not worth a retry
                raise NetworkError(
                    f"TLS/SSL error connecting to {urlsplit(hop).hostname}", url=url
                ) from e
            except requests.exceptions.RequestException as e:
                raise _Transient(
                    NetworkError(f"Cannot reach {urlsplit(hop).hostname}: {_reason(e)}", url=url)
                ) from e
            location = response.headers.get("Location")
            if response.status_code in _REDIRECTS and location:
                response.close()
                nxt = urljoin(hop, location)
                if urlsplit(nxt).scheme not in ("http", "https"):
                    raise DownloadError(
                        f"{redact_url(url)} redirected to an unsupported URL", url=url
                    )
                logger.debug("redirected from %s to %s", redact_url(hop), redact_url(nxt))
                hop = nxt
                continue
            return response
        raise NetworkError(f"Too many redirects fetching {redact_url(url)}", url=url)

    def _check_status(self, response: requests.Response, url: str, what: str) -> None:
        status = response.status_code
        if status == 200:
            return
        headers = response.headers
        shown = redact_url(url)
        retry_after = _parse_retry_after(headers.get("Retry-After"))
        if status in (403, 429) and (
            headers.get("X-RateLimit-Remaining") == "0" or retry_after is not None
        ):
            reset_at = None
            reset = headers.get("X-RateLimit-Reset", "")
            if reset.isdigit():
                reset_at = datetime.fromtimestamp(int(reset), timezone.utc)
            elif retry_after is not None:
                reset_at = datetime.now(timezone.utc) + timedelta(seconds=retry_after)
            if (
                retry_after is not None
                and retry_after <= self._policy.max_retry_after
                and headers.get("X-RateLimit-Remaining") != "0"
            ):
                raise _Transient(self._rate_limited(url, reset_at), delay=retry_after)
            raise self._rate_limited(url, reset_at)
        if status == 429:
            raise _Transient(self._rate_limited(url, None))
        if status in (404, 410):
            raise SourceNotFoundError(
                f"{what} not found: {shown} (HTTP {status})", url=url, status=status
            )
        if status in (401, 403):
            if self._token and self.is_trusted(url):
                hint = "check that GITHUB_TOKEN is valid and grants access"
            elif self.is_trusted(url):
                hint = "set GITHUB_TOKEN to access private repositories"
            else:
                hint = "the server refused access"
            raise SourceNotFoundError(
                f"Access denied to {shown} (HTTP {status}); {hint}", url=url, status=status
            )
        if status >= 500:
            raise _Transient(
                NetworkError(f"Server error fetching {shown} (HTTP {status})", url=url)
            )
        raise DownloadError(f"Unexpected HTTP {status} fetching {shown}", url=url)

    def _rate_limited(self, url: str, reset_at: datetime | None) -> RateLimitError:
        host = urlsplit(url).hostname
        message = f"Rate limit exceeded at {host}"
        if reset_at is not None:
            message += f"; it resets at {_format_reset(reset_at)}"
        if not self._token and self.is_trusted(url):
            message += "; set GITHUB_TOKEN for a higher limit"
        return RateLimitError(message, url=url, reset_at=reset_at)

    def _with_retries(self, attempt: Callable[[], Any]) -> Any:
        policy = self._policy
        for number in range(policy.retries + 1):
            try:
                return attempt()
            except _Transient as e:
                if number >= policy.retries:
                    raise e.error from e.__cause__
                delay = e.delay if e.delay is not None else policy.backoff * (2**number)
                logger.debug("retrying in %.2fs after: %s", delay, e.error)
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def status(self, url: str, accept: str | None = None) -> int:
        """Returns the final HTTP status of ``url`` (rate limits and outages still raise)."""

        def attempt() -> int:
            response = self._open(url, accept)
            try:
                if response.status_code in (404, 410, 401, 403) and not (
                    response.headers.get("X-RateLimit-Remaining") == "0"
                ):
                    return response.status_code
                self._check_status(response, url, "URL")
                return response.status_code
            finally:
                response.close()

        return int(self._with_retries(attempt))

    def download(
        self,
        url: str,
        dest: str,
        *,
        what: str = "URL",
        accept: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> Download:
        """Streams ``url`` into the file ``dest``; truncated bodies are retried, then fail."""

        def attempt() -> Download:
            response = self._open(url, accept)
            try:
                self._check_status(response, url, what)
                return self._stream(response, url, dest, progress)
            finally:
                response.close()

        return self._with_retries(attempt)  # type: ignore[no-any-return]

    def _stream(
        self,
        response: requests.Response,
        url: str,
        dest: str,
        progress: ProgressCallback | None,
    ) -> Download:
        import requests

        headers = response.headers
        encoded = headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
        length = headers.get("Content-Length", "")
        total = int(length) if length.isdigit() and not encoded else None
        limit = self._max_bytes
        if total is not None and limit is not None and total > limit:
            raise UnsafeArchiveError(_too_big(url, limit), url=url)
        done = 0
        if progress:
            progress(0, total)
        try:
            with open(dest, "wb") as f:
                for chunk in response.iter_content(CHUNK_SIZE):
                    f.write(chunk)
                    done += len(chunk)
                    if limit is not None and done > limit:
                        raise UnsafeArchiveError(_too_big(url, limit), url=url)
                    if progress:
                        progress(done, total)
        except requests.exceptions.Timeout as e:
            raise _Transient(
                NetworkError(
                    f"Timed out after {self._timeout:g}s reading {redact_url(url)} "
                    f"({done} bytes received)",
                    url=url,
                )
            ) from e
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ConnectionError,
        ) as e:
            received = max(done, _bytes_read(response))
            raise _Transient(NetworkError(_truncated(url, received, total), url=url)) from e
        except requests.exceptions.ContentDecodingError as e:  # an OSError too: before it
            encoding = headers.get("Content-Encoding", "")
            raise NetworkError(
                f"Cannot decode the {encoding} response from {redact_url(url)}", url=url
            ) from e
        except requests.exceptions.RequestException as e:  # also OSErrors: not a disk fault
            raise _Transient(
                NetworkError(f"Download of {redact_url(url)} failed: {_reason(e)}", url=url)
            ) from e
        except OSError as e:
            raise DownloadError(
                f"Cannot write the download to {dest}: {e.strerror or e}", url=url
            ) from e
        if total is not None and done != total:
            raise _Transient(NetworkError(_truncated(url, done, total), url=url))
        return Download(
            path=dest,
            size=done,
            content_type=headers.get("Content-Type", "").split(";")[0].strip().lower(),
            filename=_filename(headers.get("Content-Disposition")),
        )


def _reason(error: Exception) -> str:
    """A short cause for a connection failure (requests' own text is a nested repr)."""
    text = str(error).lower()
    if "refused" in text:
        return "connection refused"
    if any(m in text for m in ("name or service", "nodename", "getaddrinfo", "resolution")):
        return "host name could not be resolved"
    if "timed out" in text:
        return "connection timed out"
    if "reset" in text or "aborted" in text:
        return "connection reset"
    return "connection failed"


def _bytes_read(response: requests.Response) -> int:
    """Bytes received before a failed read (urllib3 raises before handing them over)."""
    try:
        return int(response.raw.tell())
    except Exception:  # noqa: BLE001 - only for a message
        return 0


def _truncated(url: str, done: int, total: int | None) -> str:
    expected = f" of {total}" if total is not None else ""
    return (
        f"Download of {redact_url(url)} was cut off after {done}{expected} bytes "
        "(connection closed early)"
    )


def _too_big(url: str, limit: int) -> str:
    return (
        f"Download of {redact_url(url)} exceeds the {limit}-byte limit "
        "(FIFTYONE_DOWNLOAD_MAX_BYTES)"
    )
