"""Outbound HTTP to user-supplied URLs (URL inputs, webhooks): assume the URL is hostile.

Only http/https on the usual ports; every address the name resolves to must be public (no loopback,
private, link-local, metadata or reserved ranges) unless the host is in CHUNKR_OUTBOUND_ALLOW_HOSTS.
The connection goes to the address that was checked (the Host header and TLS name stay the URL's),
so DNS cannot rebind in between; redirects are followed by hand and each hop is checked again.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings

MAX_REDIRECTS = 5


class OutboundError(Exception):
    """A user-facing reason why a URL was not fetched."""


@dataclass(frozen=True)
class CheckedUrl:
    url: str
    host: str
    ip: str
    port: int


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


def outbound_url_check(url: str) -> CheckedUrl:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundError("The URL is not valid.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundError("Only http:// and https:// URLs can be fetched.")
    if parts.username or parts.password:
        raise OutboundError("URLs with credentials in them are not fetched.")
    port = port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname
    allowed_hosts = set(getattr(settings, "CHUNKR_OUTBOUND_ALLOW_HOSTS", []))
    if port not in (80, 443) and host not in allowed_hosts and port < 1024:
        raise OutboundError(f"Port {port} is not allowed.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise OutboundError(f"The host {host!r} could not be resolved.") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if host not in allowed_hosts and not all(_is_public(ip) for ip in addresses):
        raise OutboundError("The URL points to a private or local address, which this server does not fetch.")
    return CheckedUrl(url=url, host=host, ip=str(addresses[0]), port=port)


class PinnedIPTransport(httpx.HTTPTransport):
    """Connects to the checked IP while keeping the URL's host for the Host header and TLS SNI."""

    def __init__(self, target: CheckedUrl, **kwargs) -> None:
        super().__init__(**kwargs)
        self.target = target

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        ip = self.target.ip
        request.url = request.url.copy_with(host=ip if ":" not in ip else f"[{ip}]")
        request.extensions = {**request.extensions, "sni_hostname": self.target.host}
        return super().handle_request(request)


@contextmanager
def outbound_get(url: str, *, timeout: float = 30.0) -> Iterator[httpx.Response]:
    """GET with every hop checked; yields a streaming response with a 2xx status."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        target = outbound_url_check(current)
        headers = {"Host": target.host if target.port in (80, 443) else f"{target.host}:{target.port}"}
        client = httpx.Client(transport=PinnedIPTransport(target), timeout=timeout, follow_redirects=False)
        try:
            request = client.build_request("GET", current, headers=headers)
            response = client.send(request, stream=True)
        except httpx.TimeoutException:
            client.close()
            raise OutboundError("The server at the URL did not answer in time.") from None
        except httpx.HTTPError as exc:
            client.close()
            raise OutboundError(f"The URL could not be fetched ({type(exc).__name__}).") from None
        if response.is_redirect and response.headers.get("location"):
            current = urljoin(current, response.headers["location"])
            response.close()
            client.close()
            continue
        try:
            if response.status_code >= 400:
                raise OutboundError(f"The URL answered HTTP {response.status_code}.")
            yield response
        finally:
            response.close()
            client.close()
        return
    raise OutboundError("The URL redirected too many times.")
