"""fetch_url refuses SSRF targets and fetches safely. All traffic stays on 127.0.0.1: names
are resolved by injected resolvers, and a guard fails any test whose code tries to connect
anywhere else."""

from __future__ import annotations

import gzip
import http.server
import ipaddress
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from worker.fetch import (
    DEFAULT_POLICY,
    USER_AGENT,
    FetchFailed,
    FetchPolicy,
    FetchRefused,
    check_address,
    fetch_url,
    parse_host,
)

LOCAL = "127.0.0.1"


# --- no network: parsing and address rules ---------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://2130706433/", "127.0.0.1"),  # decimal
        ("http://0177.0.0.1/", "127.0.0.1"),  # octal
        ("http://017700000001/", "127.0.0.1"),  # octal, one part
        ("http://0x7f.1/", "127.0.0.1"),  # hex + short
        ("http://0x7f000001/", "127.0.0.1"),
        ("http://0X7F.0.0.1/", "127.0.0.1"),
        ("http://127.1/", "127.0.0.1"),  # short forms
        ("http://127.0.1/", "127.0.0.1"),
        ("http://0/", "0.0.0.0"),
        ("http://127.0.0.1./", "127.0.0.1"),  # trailing dot
        ("http://１２７.０.０.１/", "127.0.0.1"),  # fullwidth digits, via IDNA UTS 46
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:7f00:1"),
        ("http://[0:0:0:0:0:FFFF:7F00:1]:80/", "::ffff:7f00:1"),
        ("http://[::1]:8080/", "::1"),
        ("https://Example.COM/a?b=c#frag", "example.com"),
        ("http://example.com./", "example.com"),
        ("http://bücher.de/", "xn--bcher-kva.de"),
        ("http://0x7f.example/", "0x7f.example"),  # ends in a name: a hostname
        ("http://under_score.example/", "under_score.example"),
    ],
)
def test_parse_host_normalises_every_numeric_form(url: str, host: str) -> None:
    assert parse_host(url) == host


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/", "scheme 'ftp'"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://example.com/", "scheme 'gopher'"),
        ("javascript:alert(1)", "scheme 'javascript'"),
        ("data:text/html,hi", "scheme 'data'"),
        ("//example.com/", "scheme '(none)'"),
        ("http://user:pass@example.com/", "user info"),
        ("http://example.com@127.0.0.1/", "user info"),
        ("http:///path", "no host"),
        ("http://:80/", "no host"),
        ("http://example.com:99999/", "invalid port"),
        ("http://example.com:0/", "invalid port"),
        ("http://example.com:8o/", "invalid port"),
        ("http://" + "a" * 2040 + ".com/", "longer than 2048"),
        ("http://1.2.3.4.5/", "not a valid IPv4"),
        ("http://08.0.0.1/", "not a valid IPv4"),
        ("http://a.0x7f/", "not a valid IPv4"),
        ("http://256.0.0.1/", "out-of-range"),
        ("http://4294967296/", "out-of-range"),
        ("http://exa mple.com/", "whitespace"),
        ("http://example.com\\@127.0.0.1/", "backslash"),
        ("http://[fe80::1%25eth0]/", "zone id"),
        ("http://[::1/", "Invalid IPv6 URL"),
        ("http://[zz::1]/", "unparseable URL"),
        ("http://a..b/", "invalid host name"),
        ("http://exa%6dple.com/", "percent-encoded host"),
    ],
)
def test_parse_host_refuses_malformed_urls(url: str, reason: str) -> None:
    with pytest.raises(FetchRefused, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_host(url)


@pytest.mark.parametrize(
    ("address", "rule"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("169.254.1.1", "link-local"),
        ("169.254.169.254", "metadata"),
        ("169.254.170.2", "metadata"),
        ("100.100.100.200", "metadata"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved/broadcast"),
        ("192.0.0.8", "IETF"),
        ("192.0.2.1", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "unique local"),
        ("fd12:3456::1", "unique local"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "documentation"),
        ("100::1", "discard"),
        ("fd00:ec2::254", "metadata"),
        ("::ffff:127.0.0.1", "IPv4-mapped.*loopback"),
        ("::ffff:10.0.0.1", "IPv4-mapped.*private"),
        ("::ffff:169.254.169.254", "metadata"),
        ("::127.0.0.1", "IPv4-compatible"),
        ("::ffff:0:7f00:1", "IPv4-translated"),
        ("64:ff9b::7f00:1", "NAT64.*loopback"),
        ("64:ff9b::a9fe:a9fe", "metadata"),
        ("64:ff9b:1::1", "local-use NAT64"),
        ("2002:7f00:1::1", "6to4.*127.0.0.1"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
        ("fe80::1%eth0", "zone id"),
        ("not-an-ip", "not an IP address"),
    ],
)
def test_check_address_refuses(address: str, rule: str) -> None:
    reason = check_address(address)
    assert reason is not None
    assert re.search(rule, reason), reason


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
    ],
)
def test_check_address_permits_public_addresses(address: str) -> None:
    assert check_address(address) is None


def test_check_address_allowlist_permits_but_never_metadata() -> None:
    assert check_address("127.0.0.1", ["127.0.0.1/32"]) is None
    assert check_address("::ffff:127.0.0.1", ["127.0.0.1"]) is None
    assert check_address("127.0.0.2", ["127.0.0.1/32"]) is not None
    assert "metadata" in (check_address("169.254.169.254", ["169.254.0.0/16"]) or "")
    assert "metadata" in (check_address("fd00:ec2::254", ["::/0"]) or "")


def test_policy_rejects_a_bad_allowlist_at_construction() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
        FetchPolicy(allowed_networks=("127.0.0.1/33x",))


# --- the network guard and a resolver that records --------------------------------------------


@pytest.fixture(autouse=True)
def only_localhost(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record every outgoing connection; fail the test before one leaves 127.0.0.1."""
    connections: list[tuple[str, int]] = []
    real = socket.create_connection

    def guarded(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        connections.append((address[0], address[1]))
        if address[0] != LOCAL:
            pytest.fail(f"test tried to connect to {address}")
        return real(address, *args, **kwargs)

    real_getaddrinfo = socket.getaddrinfo

    def numeric_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pytest.fail(f"test looked up {host!r} in real DNS")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    monkeypatch.setattr(socket, "getaddrinfo", numeric_only)
    return connections


@dataclass
class FakeDNS:
    """name -> addresses; a list of answers is handed out one call at a time (rebinding)."""

    table: dict[str, list[str] | list[list[str]]]
    calls: list[str] = field(default_factory=list)

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        answer = self.table[host]
        if answer and isinstance(answer[0], list):
            index = min(self.calls.count(host), len(answer)) - 1
            return list(answer[index])
        return [str(a) for a in answer]


def refusing_policy(dns: FakeDNS) -> FetchPolicy:
    return replace(DEFAULT_POLICY, resolver=dns)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://0177.0.0.1/", "loopback"),
        ("http://0x7f.1/", "loopback"),
        ("http://127.1/", "loopback"),
        ("http://0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "IPv4-mapped"),
        ("http://[::ffff:7f00:1]/", "IPv4-mapped"),
        ("http://[64:ff9b::127.0.0.1]/", "NAT64"),
        ("http://[2002:a9fe:a9fe::]/", "metadata"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://100.64.0.1/", "carrier-grade NAT"),
        ("http://10.0.0.1/", "private"),
        ("http://192.168.0.1/", "private"),
        ("http://[fe80::1]/", "link-local"),
        ("http://localhost/", "local or metadata name"),
        ("http://LOCALHOST./", "local or metadata name"),
        ("http://api.localhost/", "local or metadata name"),
        ("http://metadata.google.internal/computeMetadata/v1/", "local or metadata name"),
        ("http://private.test/", "resolves to a refused address.*private"),
        ("http://mixed.test/", "resolves to a refused address.*loopback"),
        ("http://metadata.test/", "resolves to a refused address.*metadata"),
        ("http://mapped.test/", "IPv4-mapped"),
        ("http://example.test:8080/", "port 8080 is not allowed"),
        ("ftp://example.test/", "scheme"),
        ("http://u@example.test/", "user info"),
    ],
)
def test_fetch_refuses_without_touching_the_network(
    url: str, reason: str, only_localhost: list[tuple[str, int]]
) -> None:
    dns = FakeDNS(
        {
            "private.test": ["10.0.0.7"],
            "mixed.test": ["93.184.216.34", "127.0.0.1"],  # one bad answer taints the name
            "metadata.test": ["169.254.169.254"],
            "mapped.test": ["::ffff:192.168.0.1"],
            "example.test": ["93.184.216.34"],
        }
    )
    with pytest.raises(FetchRefused, match=reason):
        fetch_url(url, refusing_policy(dns))
    assert only_localhost == []


def test_allowed_host_may_be_private_but_not_metadata() -> None:
    dns = FakeDNS({"mirror.test": ["169.254.169.254"]})
    policy = replace(DEFAULT_POLICY, resolver=dns, allowed_hosts=("mirror.test",))
    with pytest.raises(FetchRefused, match="metadata"):
        fetch_url("http://mirror.test/", policy)


# --- a local server ----------------------------------------------------------------------------

PAGE = "<html><head><title>Café</title></head><body>Grüße</body></html>".encode("latin-1")


def _gzip_bomb(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(1 << 20)
    parts = [compressor.compress(zeros) for _ in range(size >> 20)]
    return b"".join([*parts, compressor.flush()])


BOMB = _gzip_bomb(50 << 20)  # 50 MiB of zeros in ~50 KB


class Handler(http.server.BaseHTTPRequestHandler):
    server: Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _send(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.seen.append((self.path, dict(self.headers)))
        port = self.server.server_address[1]
        route = self.path.split("?")[0]
        if route == "/page":
            self._send(200, {"Content-Type": 'text/html; charset="ISO-8859-1"'}, PAGE)
        elif route == "/plain":
            body = gzip.compress(b"just text")
            self._send(200, {"Content-Type": "text/plain", "Content-Encoding": "gzip"}, body)
        elif route == "/deflate":
            self._send(
                200,
                {"Content-Type": "text/html", "Content-Encoding": "deflate"},
                zlib.compress(PAGE),
            )
        elif route == "/r1":
            self._send(302, {"Location": "/r2"})
        elif route == "/r2":
            self._send(301, {"Location": f"http://other.test:{port}/page"})
        elif route == "/redirect":  # ?to=<absolute URL>
            self._send(302, {"Location": self.path.split("?to=", 1)[1]})
        elif route == "/loop":
            self._send(302, {"Location": "/loop"})
        elif route == "/bomb":
            self._send(200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, BOMB)
        elif route == "/json":
            self._send(200, {"Content-Type": "application/json"}, b"{}")
        elif route == "/brotli":
            self._send(200, {"Content-Type": "text/html", "Content-Encoding": "br"}, b"x")
        elif route == "/big":
            self._send(200, {"Content-Type": "text/html"}, b"x" * 2048)
        elif route == "/big-unsized":  # no Content-Length: ends when the connection closes
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"x" * 2048)
        elif route in ("/404", "/503", "/429"):
            self._send(int(route[1:]), {"Content-Type": "text/html"}, b"no")
        elif route == "/drip":  # endless body, a byte every 20 ms
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self._drip(b"x", 0.02)
        elif route == "/stall":  # headers, then silence
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.flush()
            self.server.stop.wait(5)
        elif route == "/slow-headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self._drip(b"X-Pad: y\r\n", 0.02)
        else:
            self._send(404, {}, b"")

    def _drip(self, data: bytes, every: float) -> None:
        give_up = time.monotonic() + 5
        try:
            while time.monotonic() < give_up and not self.server.stop.is_set():
                self.wfile.write(data)
                self.wfile.flush()
                time.sleep(every)
        except OSError:  # the client hung up, as it should
            pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__((LOCAL, 0), Handler)
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.sni: list[str | None] = []
        self.stop = threading.Event()
        if tls is not None:

            def record_sni(sock: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
                self.sni.append(name)

            tls.sni_callback = record_sni
            self.socket = tls.wrap_socket(self.socket, server_side=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


def _serve(tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    server = Server(tls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.stop.set()
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    yield from _serve()


@pytest.fixture
def seen(server: Server) -> list[tuple[str, dict[str, str]]]:
    server.seen.clear()
    return server.seen


def local_policy(server: Server, dns: FakeDNS | None = None, **changes: Any) -> FetchPolicy:
    """Only 127.0.0.1 is allowed; news.test and other.test stand for public sites there."""
    dns = dns or FakeDNS(
        {
            "news.test": [LOCAL],
            "other.test": [LOCAL],
            "evil.test": ["169.254.169.254"],
            "intranet.test": ["10.0.0.1"],
        }
    )
    return replace(
        DEFAULT_POLICY,
        resolver=dns,
        allowed_networks=(f"{LOCAL}/32",),
        allowed_ports=frozenset({server.port}),
        **changes,
    )


def test_fetches_a_page_with_its_charset(
    server: Server, seen: list[tuple[str, dict[str, str]]], only_localhost: list[tuple[str, int]]
) -> None:
    page = fetch_url(f"http://news.test:{server.port}/page?x=1", local_policy(server))
    assert page.status == 200
    assert page.body == PAGE
    assert page.content_type == "text/html"
    assert page.charset == "iso-8859-1"
    assert page.final_url == page.url
    assert page.redirect_chain == ()
    assert page.peer_addresses == (LOCAL,)
    assert only_localhost == [(LOCAL, server.port)]
    path, headers = seen[0]
    assert path == "/page?x=1"
    assert headers["Host"] == f"news.test:{server.port}"  # the name, though we dialled the IP
    assert headers["User-Agent"] == USER_AGENT


@pytest.mark.parametrize(("route", "body"), [("/plain", b"just text"), ("/deflate", PAGE)])
def test_decodes_gzip_and_deflate(server: Server, route: str, body: bytes) -> None:
    page = fetch_url(f"http://news.test:{server.port}{route}", local_policy(server))
    assert page.body == body


def test_follows_redirects_and_revalidates_each_hop(
    server: Server, seen: list[tuple[str, dict[str, str]]]
) -> None:
    dns = FakeDNS({"news.test": [LOCAL], "other.test": [LOCAL]})
    page = fetch_url(f"http://news.test:{server.port}/r1", local_policy(server, dns))
    base = f"http://news.test:{server.port}"
    assert page.redirect_chain == (f"{base}/r1", f"{base}/r2")
    assert page.final_url == f"http://other.test:{server.port}/page"
    assert page.body == PAGE
    assert dns.calls == ["news.test", "news.test", "other.test"]  # once per hop
    assert [h["Host"] for _, h in seen] == [
        f"news.test:{server.port}",
        f"news.test:{server.port}",
        f"other.test:{server.port}",
    ]


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://evil.test:{port}/", "evil.test.*metadata"),
        ("http://intranet.test:{port}/", "intranet.test.*private"),
        ("http://169.254.169.254:{port}/latest/meta-data/", "metadata"),
        ("http://0x7f.0.0.2:{port}/page", "127.0.0.2 is loopback"),  # 127.0.0.1 only is allowed
        ("http://[::1]:{port}/page", "loopback"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("http://news.test:8080/", "port 8080"),
    ],
)
def test_redirect_to_a_forbidden_target_is_refused(
    server: Server,
    seen: list[tuple[str, dict[str, str]]],
    only_localhost: list[tuple[str, int]],
    target: str,
    reason: str,
) -> None:
    url = f"http://news.test:{server.port}/redirect?to={target.format(port=server.port)}"
    with pytest.raises(FetchRefused, match=reason):
        fetch_url(url, local_policy(server))
    assert len(seen) == 1  # the first, allowed hop only
    assert only_localhost == [(LOCAL, server.port)]


def test_too_many_redirects(server: Server, seen: list[tuple[str, dict[str, str]]]) -> None:
    with pytest.raises(FetchRefused, match="more than 3 redirects"):
        fetch_url(f"http://news.test:{server.port}/loop", local_policy(server, max_redirects=3))
    assert len(seen) == 4


def test_dns_rebinding_connects_to_the_checked_address(
    server: Server,
    seen: list[tuple[str, dict[str, str]]],
    only_localhost: list[tuple[str, int]],
) -> None:
    # First answer allowed, every later one internal: a second lookup would be an attack.
    dns = FakeDNS({"news.test": [[LOCAL], ["10.0.0.1"]]})
    page = fetch_url(f"http://news.test:{server.port}/page", local_policy(server, dns))
    assert page.body == PAGE
    assert dns.calls == ["news.test"]
    assert only_localhost == [(LOCAL, server.port)]
    assert page.peer_addresses == (LOCAL,)
    assert seen[0][1]["Host"] == f"news.test:{server.port}"


def test_dns_rebinding_between_hops_is_caught(
    server: Server, only_localhost: list[tuple[str, int]]
) -> None:
    dns = FakeDNS({"news.test": [[LOCAL], ["10.0.0.1"]]})
    url = f"http://news.test:{server.port}/redirect?to=/page"
    with pytest.raises(FetchRefused, match="10.0.0.1 is private"):
        fetch_url(url, local_policy(server, dns))
    assert dns.calls == ["news.test", "news.test"]
    assert only_localhost == [(LOCAL, server.port)]


def test_gzip_bomb_is_refused_without_inflating_it(server: Server) -> None:
    assert len(BOMB) < 100_000
    policy = local_policy(server, max_bytes=1 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(FetchRefused, match="larger than 1048576 bytes"):
            fetch_url(f"http://news.test:{server.port}/bomb", policy)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"peak {peak} bytes while refusing a 50 MiB bomb"


@pytest.mark.parametrize("route", ["/big", "/big-unsized"])
def test_plain_body_over_the_cap_is_refused(server: Server, route: str) -> None:
    with pytest.raises(FetchRefused, match="larger than 1024 bytes"):
        fetch_url(f"http://news.test:{server.port}{route}", local_policy(server, max_bytes=1024))


@pytest.mark.parametrize(
    ("route", "limit"),
    [
        ("/drip", 0.5),  # bytes keep coming, each within the read timeout
        ("/stall", 0.5),  # a read blocks: the watchdog cuts it off
        ("/slow-headers", 0.5),  # headers never finish
    ],
)
def test_wall_clock_deadline(server: Server, route: str, limit: float) -> None:
    policy = local_policy(server, deadline=limit, read_timeout=5.0)
    started = time.monotonic()
    with pytest.raises(FetchFailed, match=r"deadline of 0.5 s exceeded") as caught:
        fetch_url(f"http://news.test:{server.port}{route}", policy)
    assert caught.value.transient
    assert time.monotonic() - started < limit + 0.5


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        ("/json", "content type 'application/json'.*not accepted"),
        ("/brotli", "unsupported Content-Encoding 'br'"),
    ],
)
def test_refused_content(server: Server, route: str, reason: str) -> None:
    with pytest.raises(FetchRefused, match=reason):
        fetch_url(f"http://news.test:{server.port}{route}", local_policy(server))


@pytest.mark.parametrize(("route", "transient"), [("/404", False), ("/503", True), ("/429", True)])
def test_http_errors(server: Server, route: str, transient: bool) -> None:
    with pytest.raises(FetchFailed, match=f"HTTP {route[1:]}") as caught:
        fetch_url(f"http://news.test:{server.port}{route}", local_policy(server))
    assert caught.value.transient is transient


def test_connection_refused_is_transient() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind((LOCAL, 0))
        port = sock.getsockname()[1]
    policy = replace(
        DEFAULT_POLICY,
        resolver=FakeDNS({"news.test": [LOCAL]}),
        allowed_networks=(LOCAL,),
        allowed_ports=frozenset({port}),
    )
    with pytest.raises(FetchFailed, match="connecting to news.test") as caught:
        fetch_url(f"http://news.test:{port}/", policy)
    assert caught.value.transient


# --- TLS: connect to the pinned IP, verify the certificate against the name ------------------


@dataclass(frozen=True)
class Certs:
    ca: Path
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A throwaway CA and a certificate for news.test only (openssl CLI: no extra packages)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed")
    d = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=d, check=True, capture_output=True)

    run(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=newsflow test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    )
    run("req", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=news.test")
    (d / "ext.cnf").write_text(
        "subjectAltName=DNS:news.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    run(
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    )
    return Certs(ca=d / "ca.pem", cert=d / "leaf.pem", key=d / "leaf.key")


@pytest.fixture(scope="module")
def tls_server(certs: Certs) -> Iterator[Server]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.cert, certs.key)
    yield from _serve(context)


def tls_policy(server: Server, certs: Certs) -> FetchPolicy:
    return local_policy(server, ssl_context=ssl.create_default_context(cafile=str(certs.ca)))


def test_tls_dials_the_ip_but_sends_and_verifies_the_name(
    tls_server: Server, certs: Certs, only_localhost: list[tuple[str, int]]
) -> None:
    tls_server.sni.clear()
    page = fetch_url(f"https://news.test:{tls_server.port}/page", tls_policy(tls_server, certs))
    assert page.body == PAGE
    assert only_localhost == [(LOCAL, tls_server.port)]
    assert tls_server.sni == ["news.test"]
    assert tls_server.seen[-1][1]["Host"] == f"news.test:{tls_server.port}"


@pytest.mark.parametrize("host", ["other.test", LOCAL])
def test_tls_certificate_for_another_name_is_rejected(
    tls_server: Server, certs: Certs, host: str
) -> None:
    # Same server and IP, but the certificate names news.test only: verification must use
    # the URL's host, not the address we dialled, or pinning would weaken TLS.
    with pytest.raises(FetchFailed, match="certificate") as caught:
        fetch_url(f"https://{host}:{tls_server.port}/page", tls_policy(tls_server, certs))
    assert not caught.value.transient


def test_default_policy_is_strict() -> None:
    assert DEFAULT_POLICY.max_bytes == 5 * 1024 * 1024
    assert DEFAULT_POLICY.max_redirects == 5
    assert DEFAULT_POLICY.allowed_ports == frozenset({80, 443})
    assert DEFAULT_POLICY.allowed_networks == ()
    assert "newsflow" in DEFAULT_POLICY.user_agent
    resolver: Callable[[str, int], list[str]] = DEFAULT_POLICY.resolver
    assert resolver.__name__ == "system_resolver"
