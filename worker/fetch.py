"""fetch_url(url, policy) -> FetchedPage: fetch a client-submitted URL without SSRF.

How it stays safe:
- The URL is parsed here (numeric IPv4 forms included) and every hop is re-validated.
- Each hostname is resolved ONCE per hop, every address is checked, and the request is sent to
  the checked IP literal (so httpx/httpcore never resolve anything: no DNS rebinding). The
  original name goes in the Host header and in the `sni_hostname` request extension, which
  httpcore uses as `server_hostname` for TLS: SNI and certificate verification use the name.
- Redirects are followed by hand, the body is decompressed here with a bounded zlib decoder
  (httpx's decoders inflate a whole 64 KiB network chunk at once: a gzip bomb chunk is ~64 MB),
  and a watchdog enforces the wall-clock deadline even while a read is blocked.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import idna

from newsflow.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

USER_AGENT = "newsflow/0.1 (news-article ingestion)"
DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# 408/425/429 say "try later"; every other 4xx is a permanent answer about this URL.
TRANSIENT_4XX = frozenset({408, 425, 429})


class FetchError(Exception):
    """Base of both fetch errors; `reason` is the text to store on the submission."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FetchRefused(FetchError):
    """Policy said no (address, scheme, size, type, redirects...). Permanent."""

    transient = False


class FetchFailed(FetchError):
    """The fetch did not work: network error, timeout, HTTP error status."""

    def __init__(self, reason: str, transient: bool, status: int | None = None) -> None:
        super().__init__(reason)
        self.transient = transient
        self.status = status  # the HTTP status, when the server answered with an error


def system_resolver(host: str, port: int) -> list[str]:
    """Every TCP address the system resolver gives for host, in its order, deduplicated."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _networks(items: Iterable[str | IPNetwork]) -> list[IPNetwork]:
    return [ipaddress.ip_network(item, strict=False) for item in items]


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int = 5 * 1024 * 1024  # decoded body
    connect_timeout: float = 5.0
    read_timeout: float = 10.0  # per socket read
    deadline: float = 30.0  # wall clock for the whole fetch, all hops, DNS included
    max_redirects: int = 5
    max_url_length: int = 2048
    allowed_ports: frozenset[int] = frozenset({80, 443})
    # Networks (CIDR or single IPs) permitted although they would be refused; cloud metadata
    # addresses stay refused regardless.
    allowed_networks: tuple[str, ...] = ()
    # Hostnames whose resolved addresses are not checked (metadata still refused).
    allowed_hosts: tuple[str, ...] = ()
    content_types: frozenset[str] = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
    user_agent: str = USER_AGENT
    resolver: Resolver = field(default=system_resolver)
    ssl_context: ssl.SSLContext | None = None  # None: httpx's default (certifi, verifying)

    def __post_init__(self) -> None:
        _networks(self.allowed_networks)  # a typo in config fails at start, not per fetch


DEFAULT_POLICY = FetchPolicy()


@dataclass(frozen=True)
class FetchedPage:
    url: str  # as submitted
    final_url: str  # after redirects
    status: int
    content_type: str  # media type only, lower case
    charset: str | None  # from the Content-Type header, lower case
    body: bytes  # decoded (Content-Encoding removed), at most policy.max_bytes
    redirect_chain: tuple[str, ...]  # URLs that answered with a redirect, in order
    peer_addresses: tuple[str, ...]  # the IP each hop connected to (chain, then final)
    # the validators of the final response, for a later conditional GET (sources poll)
    etag: str | None = None
    last_modified: str | None = None


# --- addresses -------------------------------------------------------------------------------

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        "169.254.169.253",  # AWS DNS
        "169.254.169.123",  # AWS time
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.170.23",  # AWS EKS pod identity
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (classic)
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::23",  # AWS EKS pod identity over IPv6
        "fd00:ec2::253",  # AWS DNS over IPv6
    )
)

_REFUSED: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), label)
    for net, label in (
        ("0.0.0.0/8", "'this network'/unspecified"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation (TEST-NET-1)"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation (TEST-NET-2)"),
        ("203.0.113.0/24", "documentation (TEST-NET-3)"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved/broadcast"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible IPv6 (deprecated)"),
        ("::ffff:0:0:0/96", "IPv4-translated (SIIT)"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001::/32", "Teredo tunnel"),
        ("2001:db8::/32", "documentation"),
        ("2002::/16", "6to4 tunnel"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated)"),
        ("ff00::/8", "multicast"),
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries: mapped, compatible, NAT64, 6to4, Teredo."""
    found: list[ipaddress.IPv4Address] = []
    if addr.ipv4_mapped is not None:
        found.append(addr.ipv4_mapped)
    low32 = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if addr in _NAT64 or (int(addr) >> 32 == 0 and int(addr) > 1):  # NAT64, ::a.b.c.d
        found.append(low32)
    if addr.sixtofour is not None:
        found.append(addr.sixtofour)
    if addr.teredo is not None:
        found.extend(addr.teredo)
    return found


def check_address(
    ip: str | IPAddress, allowed_networks: Iterable[str | IPNetwork] = ()
) -> str | None:
    """None if a fetch may connect to ip, else the reason it may not."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return f"{ip!r} is not an IP address"
    if isinstance(addr, ipaddress.IPv6Address) and addr.scope_id:
        return f"address {addr} carries a zone id"
    embedded = _embedded_ipv4(addr) if isinstance(addr, ipaddress.IPv6Address) else []
    for candidate in [addr, *embedded]:
        if candidate in METADATA_ADDRESSES:
            via = "" if candidate is addr else f" (embedded in {addr})"
            return f"address {candidate}{via} is a cloud metadata endpoint"
    allowed = _networks(allowed_networks)
    if any(addr in net for net in allowed):
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        inner = check_address(addr.ipv4_mapped, allowed)
        return None if inner is None else f"{addr} is IPv4-mapped: {inner}"
    if isinstance(addr, ipaddress.IPv6Address) and addr in _NAT64:
        # DNS64 networks hand these out for IPv4-only sites: judge the IPv4 inside.
        inner = check_address(embedded[0], allowed)
        return None if inner is None else f"{addr} is NAT64: {inner}"
    for net, label in _REFUSED:
        if addr.version == net.version and addr in net:
            carried = f", carries {', '.join(map(str, embedded))}" if embedded else ""
            return f"address {addr} is {label} ({net}{carried})"
    if not addr.is_global:  # whatever the table missed, e.g. newly reserved ranges
        return f"address {addr} is not globally routable"
    return None


# --- URLs ------------------------------------------------------------------------------------

_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
_REFUSED_NAMES = ("localhost", "metadata.google.internal", "metadata.goog")


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # canonical: an IP literal (no brackets) or an ASCII lower-case hostname
    ip: IPAddress | None  # set when the URL names an address
    port: int
    path_and_query: str


def _parse_ipv4_number(part: str) -> int | None:
    """One part of a WHATWG IPv4 host: 0x hex, leading-0 octal, or decimal."""
    if part[:2] in ("0x", "0X"):
        digits = part[2:]
        if digits and not all(c in "0123456789abcdefABCDEF" for c in digits):
            return None
        return int(digits, 16) if digits else 0
    if len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if not digits.isascii() or not digits.isdigit():
        return None
    try:
        return int(digits, base)
    except ValueError:  # 08, 09: not octal
        return None


def _ends_in_number(host: str) -> bool:
    last = host.split(".")[-1]
    return (last.isascii() and last.isdigit()) or bool(re.fullmatch(r"0[xX][0-9a-fA-F]*", last))


def _parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address a browser/inet_aton reads in 2130706433, 0177.0.0.1, 0x7f.1, 127.1;
    None for a hostname. Raises FetchRefused for a host that ends in a number but is no
    valid address (1.2.3.4.5, 256.0.0.1), as such names are ambiguous between parsers."""
    if not _ends_in_number(host):
        return None
    parts = host.split(".")
    numbers = [_parse_ipv4_number(p) if p else None for p in parts]
    if len(parts) > 4 or any(n is None for n in numbers):
        raise FetchRefused(f"host {host!r} looks numeric but is not a valid IPv4 address")
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        raise FetchRefused(f"host {host!r} is an out-of-range IPv4 address")
    result = values[-1]
    for i, n in enumerate(values[:-1]):
        result += n << (8 * (3 - i))
    return ipaddress.IPv4Address(result)


def _split(url: str, max_length: int = 2048) -> _Target:
    if len(url) > max_length:
        raise FetchRefused(f"URL longer than {max_length} characters")
    if any(c <= " " or c in "\x7f\\" for c in url):
        raise FetchRefused("URL contains whitespace, control characters or a backslash")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise FetchRefused(f"unparseable URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise FetchRefused(f"scheme {scheme or '(none)'!r} is not allowed (only http, https)")
    netloc = parts.netloc
    if "@" in netloc:
        raise FetchRefused("URL carries user info (user@host)")
    if netloc.startswith("["):
        host, bracket, rest = netloc[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise FetchRefused(f"malformed IPv6 host in {netloc!r}")
        port_text = rest[1:]
        if "%" in host:
            raise FetchRefused("IPv6 zone ids are not allowed")
        try:
            ip: IPAddress | None = ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise FetchRefused(f"invalid IPv6 address {host!r}") from exc
        host = str(ip)
    else:
        host, colon, port_text = netloc.partition(":")
        if colon and ":" in port_text:
            raise FetchRefused(f"malformed host {netloc!r}")
        host, ip = _canonical_name(host)
    if not host:
        raise FetchRefused("URL has no host")
    port = DEFAULT_PORTS[scheme]
    if port_text:
        if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise FetchRefused(f"invalid port {port_text!r}")
        port = int(port_text)
    path = parts.path or "/"
    if not path.startswith("/"):
        raise FetchRefused("URL path is not absolute")
    return _Target(scheme, host, ip, port, path + (f"?{parts.query}" if parts.query else ""))


def _canonical_name(raw: str) -> tuple[str, IPAddress | None]:
    if not raw:
        return "", None
    if "%" in raw:
        raise FetchRefused(f"percent-encoded host {raw!r} is not allowed")
    try:
        # UTS 46 also maps look-alikes: fullwidth "１２７.０.０.１" becomes 127.0.0.1.
        host = raw.lower() if raw.isascii() else idna.encode(raw, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise FetchRefused(f"invalid international host name {raw!r}: {exc}") from exc
    if host.endswith("."):
        host = host[:-1]  # one trailing dot: the same name, fully qualified
    ip = _parse_ipv4(host)
    if ip is not None:
        return str(ip), ip
    if len(host) > 253 or not all(_LABEL.match(label) for label in host.split(".")):
        raise FetchRefused(f"invalid host name {raw!r}")
    return host, None


def parse_host(url: str) -> str:
    """The canonical host of url: an IP literal for every numeric form (2130706433,
    0177.0.0.1, 0x7f.1, 127.1, [::ffff:127.0.0.1] -> ::ffff:7f00:1), else the lower-case
    ASCII (IDNA) hostname. Raises FetchRefused for a URL this module would never fetch."""
    return _split(url).host


# --- fetching --------------------------------------------------------------------------------


class _Deadline:
    """Wall-clock budget for one fetch. A timer shuts the current socket down when it runs
    out, so even a read blocked on a stalled or dripping server returns promptly (httpcore
    fixes the read timeout when a body starts, so per-read timeouts alone cannot do this)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0 or self.expired:
            raise FetchFailed(f"deadline of {self.seconds:g} s exceeded", transient=True)
        return left

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's `trace` request extension: learn the socket to shut on expiry."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            sock = info["return_value"].get_extra_info("socket")
            with self._lock:
                self._sock = sock
                if self.expired:
                    self._shutdown()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._sock is not None:
            try:
                # The plain-socket method, also on an SSLSocket: it wakes a blocked recv
                # without touching the TLS state another thread is using.
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def forget_socket(self) -> None:
        with self._lock:
            self._sock = None

    def cancel(self) -> None:
        self._timer.cancel()
        self.forget_socket()


def _resolve(target: _Target, policy: FetchPolicy, deadline: _Deadline) -> list[str]:
    """Resolve once, in a thread so a hung resolver cannot outlive the deadline."""
    result: list[list[str] | BaseException] = []

    def run() -> None:
        try:
            result.append(policy.resolver(target.host, target.port))
        except BaseException as exc:  # handed to the caller's thread
            result.append(exc)

    thread = threading.Thread(target=run, name="newsflow-resolve", daemon=True)
    thread.start()
    thread.join(deadline.remaining())
    if not result:
        raise FetchFailed(f"resolving {target.host!r} exceeded the deadline", transient=True)
    outcome = result[0]
    if isinstance(outcome, socket.gaierror):
        permanent = outcome.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None))
        raise FetchFailed(f"cannot resolve {target.host!r}: {outcome}", transient=not permanent)
    if isinstance(outcome, BaseException):
        raise FetchFailed(f"cannot resolve {target.host!r}: {outcome}", transient=True)
    if not outcome:
        raise FetchFailed(f"{target.host!r} resolved to no addresses", transient=False)
    return outcome


def _validated_addresses(target: _Target, policy: FetchPolicy, deadline: _Deadline) -> list[str]:
    if target.port not in policy.allowed_ports:
        allowed = ", ".join(map(str, sorted(policy.allowed_ports)))
        raise FetchRefused(f"port {target.port} is not allowed (allowed: {allowed})")
    if target.ip is not None:
        reason = check_address(target.ip, policy.allowed_networks)
        if reason:
            raise FetchRefused(f"host {target.host}: {reason}")
        return [str(target.ip)]
    name = target.host
    if name in _REFUSED_NAMES or name.endswith(".localhost"):
        raise FetchRefused(f"host name {name!r} is refused (local or metadata name)")
    # An allowed host may resolve anywhere except the hard refusals (metadata, zone ids).
    exempt = name in {h.lower().rstrip(".") for h in policy.allowed_hosts}
    networks = ("0.0.0.0/0", "::/0") if exempt else policy.allowed_networks
    addresses = _resolve(target, policy, deadline)
    for address in addresses:  # every one: the connection must not depend on which we pick
        reason = check_address(address, networks)
        if reason:
            raise FetchRefused(f"host {name!r} resolves to a refused address: {reason}")
    return [str(ipaddress.ip_address(a)) for a in addresses]


_default_ssl: ssl.SSLContext | None = None


def _ssl_context(policy: FetchPolicy) -> ssl.SSLContext:
    global _default_ssl
    if policy.ssl_context is not None:
        return policy.ssl_context
    if _default_ssl is None:
        _default_ssl = httpx.create_ssl_context()  # verifying, certifi roots
    return _default_ssl


def _content_type(response: httpx.Response) -> tuple[str, str | None]:
    header = response.headers.get("content-type", "")
    media, *params = (p.strip() for p in header.split(";"))
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower() or None
    return media.lower(), charset


class _BoundedDecoder:
    """Content-Encoding removal that never produces more than it is allowed to."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._first = True
        self._obj = self._new()

    def _new(self, raw_deflate: bool = False) -> Any:
        if self.encoding == "gzip":
            return zlib.decompressobj(zlib.MAX_WBITS | 16)
        if self.encoding == "deflate":
            return zlib.decompressobj(-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)
        return None

    def decode(self, data: bytes, limit: int) -> bytes:
        """Decoded data, cut at limit + 1 bytes: more than limit means too large."""
        if self._obj is None:
            return data
        out: list[bytes] = []
        produced = 0
        pending = data
        while pending:
            if self._obj.eof:
                if self.encoding != "gzip":
                    break  # trailing bytes after a deflate stream: ignore, as httpx does
                self._obj = self._new()  # concatenated gzip members
            want = limit - produced + 1
            try:
                chunk = self._obj.decompress(pending, want)
            except zlib.error as exc:
                if self.encoding == "deflate" and self._first:
                    # "deflate" is often sent raw, without the zlib header.
                    self._obj = self._new(raw_deflate=True)
                    self._first = False
                    continue
                raise FetchFailed(f"corrupt {self.encoding} body: {exc}", transient=False) from exc
            self._first = False
            out.append(chunk)
            produced += len(chunk)
            if produced > limit:
                break
            pending = self._obj.unused_data if self._obj.eof else self._obj.unconsumed_tail
        return b"".join(out)


def _read_body(
    response: httpx.Response, url: str, policy: FetchPolicy, deadline: _Deadline
) -> bytes:
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    encoding = {"": "identity", "x-gzip": "gzip"}.get(encoding, encoding)
    if encoding not in ("identity", "gzip", "deflate"):
        raise FetchRefused(f"unsupported Content-Encoding {encoding!r} from {url}")
    too_large = f"body of {url} is larger than {policy.max_bytes} bytes"
    length = response.headers.get("content-length", "")
    if encoding == "identity" and length.isdigit() and int(length) > policy.max_bytes:
        raise FetchRefused(too_large)
    decoder = _BoundedDecoder(encoding)
    body = bytearray()
    raw_total = 0
    # iter_raw: bytes as received. httpx's own decoding (iter_bytes) would inflate each
    # 64 KiB read in one go, which is how a gzip bomb gets its memory.
    for raw in response.iter_raw():
        raw_total += len(raw)
        if raw_total > policy.max_bytes + 65536:  # compressed data is never much larger
            raise FetchRefused(too_large)
        body += decoder.decode(raw, policy.max_bytes - len(body))
        if len(body) > policy.max_bytes:
            raise FetchRefused(too_large)
        deadline.remaining()  # a server dripping bytes still hits the deadline
    deadline.remaining()  # the watchdog may have cut a close-delimited body short
    return bytes(body)


def _cert_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _send(
    client: httpx.Client,
    target: _Target,
    address: str,
    policy: FetchPolicy,
    deadline: _Deadline,
    method: str = "GET",
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Send to target at address (an IP that passed the checks), naming the host properly."""
    ip_in_url = f"[{address}]" if ":" in address else address
    default_port = DEFAULT_PORTS[target.scheme] == target.port
    host_header = f"[{target.host}]" if ":" in target.host else target.host
    if not default_port:
        host_header += f":{target.port}"
    extensions: dict[str, Any] = {"trace": deadline.trace}
    if target.scheme == "https" and target.ip is None:
        extensions["sni_hostname"] = target.host  # SNI and certificate check use the name
    left = deadline.remaining()
    request = client.build_request(
        method,
        f"{target.scheme}://{ip_in_url}:{target.port}{target.path_and_query}",
        content=content,
        headers={**(headers or {}), "Host": host_header},
        extensions=extensions,
        timeout=httpx.Timeout(
            connect=min(policy.connect_timeout, left),
            read=min(policy.read_timeout, left),
            write=min(policy.read_timeout, left),
            pool=min(policy.connect_timeout, left),
        ),
    )
    return client.send(request, stream=True)


def _fetch_hop(
    client: httpx.Client,
    target: _Target,
    url: str,
    policy: FetchPolicy,
    deadline: _Deadline,
    **request: Any,
) -> tuple[httpx.Response, str]:
    """Connect to the first validated address that answers; returns (response, address).
    ``request``: the method, content and headers ``_send`` takes (a GET by default)."""
    addresses = _validated_addresses(target, policy, deadline)
    last: httpx.TransportError | None = None
    for address in addresses:  # all were validated, so falling back is safe
        try:
            response = _send(client, target, address, policy, deadline, **request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            if _cert_error(exc) is not None:
                raise FetchFailed(
                    f"TLS certificate of {target.host} rejected: {_cert_error(exc)}",
                    transient=False,
                ) from exc
            last = exc
            deadline.remaining()
            continue
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer and ipaddress.ip_address(peer[0]) != ipaddress.ip_address(address):
            response.close()  # cannot happen with an IP literal URL; belt and braces
            raise FetchRefused(f"connected to {peer[0]}, not the checked address {address}")
        return response, address
    assert last is not None
    kind = "timed out" if isinstance(last, httpx.ConnectTimeout) else "failed"
    raise FetchFailed(
        f"connecting to {target.host} ({', '.join(addresses)}) {kind}: {last}", transient=True
    ) from last


def fetch_url(
    url: str, policy: FetchPolicy = DEFAULT_POLICY, headers: dict[str, str] | None = None
) -> FetchedPage:
    """GET url under policy. Raises FetchRefused (permanent, policy) or FetchFailed.
    ``headers`` are sent as well (Accept, If-None-Match...); a 304 Not Modified answer to
    a conditional request is a page with status 304 and no body."""
    deadline = _Deadline(policy.deadline)
    client = httpx.Client(
        verify=_ssl_context(policy),
        trust_env=False,  # an environment proxy would connect by name: no pinning
        follow_redirects=False,
        # No keep-alive: a connection is keyed by IP, and must not carry a later hop's
        # request for another name over a TLS session verified for the first one.
        limits=httpx.Limits(max_keepalive_connections=0),
        headers={
            "User-Agent": policy.user_agent,
            "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9",
            "Accept-Encoding": "gzip, deflate",  # only what _BoundedDecoder can bound
            **{k: v for k, v in (headers or {}).items() if k.lower() != "accept-encoding"},
        },
    )
    conditional = any(k.lower().startswith("if-") for k in headers or {})
    current = url
    chain: list[str] = []
    peers: list[str] = []
    try:
        while True:
            target = _split(current, policy.max_url_length)
            response, address = _fetch_hop(client, target, current, policy, deadline)
            peers.append(address)
            try:
                location = response.headers.get("location")
                if response.status_code in REDIRECT_STATUSES and location:
                    if len(chain) >= policy.max_redirects:
                        raise FetchRefused(f"more than {policy.max_redirects} redirects")
                    chain.append(current)
                    current = urljoin(current, location.strip())
                    continue
                not_modified = conditional and response.status_code == 304
                if not not_modified:
                    _check_status(response.status_code, current)
                media, charset = _content_type(response)
                if not_modified:
                    body = b""
                elif media not in policy.content_types:
                    accepted = ", ".join(sorted(policy.content_types))
                    raise FetchRefused(
                        f"content type {media or '(none)'!r} of {current} is not accepted "
                        f"(accepted: {accepted})"
                    )
                else:
                    body = _read_body(response, current, policy, deadline)
            finally:
                deadline.forget_socket()
                response.close()
            return FetchedPage(
                url=url,
                final_url=current,
                status=response.status_code,
                content_type=media,
                charset=charset,
                body=body,
                redirect_chain=tuple(chain),
                peer_addresses=tuple(peers),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            )
    except httpx.InvalidURL as exc:  # our checks passed but httpx disagrees: do not guess
        raise FetchRefused(f"invalid URL {current}: {exc}") from exc
    except httpx.HTTPError as exc:
        deadline.remaining()  # a socket shut by the watchdog surfaces as some HTTPError
        timeout = isinstance(exc, httpx.TimeoutException)
        what = "timed out" if timeout else f"failed ({type(exc).__name__})"
        raise FetchFailed(f"fetching {current} {what}: {exc}", transient=True) from exc
    finally:
        deadline.cancel()
        client.close()


def _check_status(status: int, url: str) -> None:
    if 200 <= status < 300:
        return
    transient = status >= 500 or status in TRANSIENT_4XX
    raise FetchFailed(f"HTTP {status} from {url}", transient=transient, status=status)


# --- pushing (webhook deliveries) -------------------------------------------------------------


def webhook_policy(settings: Settings) -> FetchPolicy:
    """The checks a webhook URL passes, at creation (the API) and at every delivery."""
    timeout = settings.webhook_timeout_seconds
    return FetchPolicy(
        max_bytes=64 * 1024,  # of the receiver's answer, which is read and dropped
        connect_timeout=min(5.0, timeout),
        read_timeout=timeout,
        deadline=timeout,
        allowed_ports=frozenset(settings.webhook_allowed_ports),
        allowed_networks=tuple(settings.webhook_allowed_networks),
    )


def check_url(url: str, policy: FetchPolicy) -> None:
    """Raise FetchRefused if ``url`` is one ``post`` would refuse (scheme, port, address
    after resolving), FetchFailed if its host does not resolve now."""
    deadline = _Deadline(policy.deadline)
    try:
        _validated_addresses(_split(url, policy.max_url_length), policy, deadline)
    finally:
        deadline.cancel()


def post(url: str, body: bytes, headers: dict[str, str], policy: FetchPolicy) -> int:
    """POST ``body`` to ``url`` under the same checks as a fetch (resolved once, every
    address checked, sent to the checked IP; redirects are not followed). Returns the
    status; the answer's body is read up to ``policy.max_bytes`` and dropped. Raises
    FetchRefused or FetchFailed (connection error, timeout)."""
    deadline = _Deadline(policy.deadline)
    client = httpx.Client(
        verify=_ssl_context(policy),
        trust_env=False,
        follow_redirects=False,
        limits=httpx.Limits(max_keepalive_connections=0),
        headers={"User-Agent": policy.user_agent},
    )
    try:
        target = _split(url, policy.max_url_length)
        response, _ = _fetch_hop(
            client, target, url, policy, deadline, method="POST", content=body, headers=headers
        )
        try:
            size = 0
            for raw in response.iter_raw():
                size += len(raw)
                if size > policy.max_bytes:
                    break
                deadline.remaining()
        finally:
            deadline.forget_socket()
            response.close()
        return response.status_code
    except httpx.InvalidURL as exc:
        raise FetchRefused(f"invalid URL {url}: {exc}") from exc
    except httpx.HTTPError as exc:
        deadline.remaining()
        timeout = isinstance(exc, httpx.TimeoutException)
        what = "timed out" if timeout else f"failed ({type(exc).__name__})"
        raise FetchFailed(f"posting to {url} {what}: {exc}", transient=True) from exc
    finally:
        deadline.cancel()
        client.close()
