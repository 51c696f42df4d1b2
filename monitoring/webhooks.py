"""Webhook delivery: signed as Standard Webhooks specifies, sent only to public addresses.

**Signature** (Standard Webhooks, "symmetric" scheme): the secret is ``whsec_`` followed by
base64 of random bytes; each attempt sends ``webhook-id`` (the message id, the same on every
retry, so receivers can drop repeats), ``webhook-timestamp`` (Unix seconds of the attempt)
and ``webhook-signature: v1,<base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``, the
key being the secret's decoded bytes.

**Where it may connect** (server-side request forgery): the URL must be ``http`` or
``https`` with a host. The check is made on the address the socket actually connects to,
after name resolution and at connect time, inside urllib3's connection: a name that
resolves to a private address, or that resolves differently by the time the connection
is made (DNS rebinding), is refused like a literal one, and no packet is sent to it.
Refused: loopback, private, link-local (cloud metadata services live there), shared,
reserved, multicast and unspecified addresses, and IPv6 forms that embed one of those
(IPv4-mapped, 6to4, NAT64). ``MONITORING_WEBHOOK_ALLOWED_HOSTS`` lists host names that
may resolve to such addresses anyway (a receiver inside the company network).

Redirects are never followed (a 3xx is a failed attempt) and proxies from the environment
are not used. The receiver's answer is read for its status code only: no header or body of
it is kept or shown to anyone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
SIGNATURE_VERSION = "v1"
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
USER_AGENT = "mlprojects-webhooks/1"


class AddressRefused(Exception):
    """The URL or the address it leads to may not be connected to."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def headers(secret: str, message_id: str, body: bytes, *, now: float | None = None) -> dict:
    timestamp = int(time.time() if now is None else now)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


# --- Addresses --------------------------------------------------------------------------


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_refusal(text: str) -> str | None:
    """Why a connection to the IP address ``text`` is refused, or None if it is public."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address):
        if address in NAT64_LOCAL:
            return f"{address} is a local NAT64 address"
        inner = _embedded_v4(address)
        if inner is not None:
            reason = address_refusal(str(inner))
            return f"{address} embeds {inner}: {reason}" if reason else None
    for test, words in (
        ("is_unspecified", "the unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address (where metadata services answer)"),
        ("is_private", "a private address"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(address, test):
            return f"{address} is {words}"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def check_url(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of a webhook URL, or AddressRefused saying what is wrong.

    A literal IP host is checked here too, so a form can refuse it at once; names are
    checked when a delivery connects.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise AddressRefused(f"not a valid URL ({error})") from None
    if parts.scheme not in ("http", "https"):
        raise AddressRefused("only http and https URLs are allowed")
    host = (parts.hostname or "").lower()
    if not host:
        raise AddressRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("the URL may not carry a user name or password")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def check_literal(host: str, allowed_hosts: Collection[str]) -> None:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return
    reason = None if host in allowed_hosts else address_refusal(host)
    if reason:
        raise AddressRefused(reason)


class _Guarded:
    """urllib3 connection whose connect step resolves the host itself, refuses every
    address that is not public (unless the host is allowed), and connects to the address
    it checked: the check and the connection cannot see different answers."""

    allowed_hosts: Collection[str] = ()

    def _new_conn(self) -> socket.socket:
        host, port = self._dns_host, self.port  # type: ignore[attr-defined]
        allowed = host.lower().strip("[]") in self.allowed_hosts
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            raise AddressRefused(f"the host {host} could not be resolved") from None
        reasons, last_error = [], None
        for family, kind, proto, _, sockaddr in found:
            reason = None if allowed else address_refusal(sockaddr[0])
            if reason:
                reasons.append(reason)
                continue
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(self.timeout)  # type: ignore[attr-defined]
                sock.connect(sockaddr)
            except OSError as error:
                sock.close()
                last_error = error
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        if last_error is not None:
            raise last_error
        raise AddressRefused(f"{host} resolves to no public address: {'; '.join(reasons)}")


class GuardedHTTPConnection(_Guarded, HTTPConnection):
    pass


class GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    pass


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str = ""


def post(
    url: str,
    body: bytes,
    request_headers: dict[str, str],
    *,
    timeout: float,
    allowed_hosts: Collection[str] = (),
) -> Outcome:
    """One POST of ``body``; never raises for what the network or the receiver does."""
    allowed = frozenset(h.lower() for h in allowed_hosts)
    try:
        scheme, host, port, path = check_url(url)
        check_literal(host, allowed)
    except AddressRefused as refused:
        return Outcome(False, error=str(refused))
    pool_class = urllib3.HTTPSConnectionPool if scheme == "https" else urllib3.HTTPConnectionPool
    pool = pool_class(host, port, timeout=urllib3.Timeout(connect=timeout, read=timeout), maxsize=1)
    base = GuardedHTTPSConnection if scheme == "https" else GuardedHTTPConnection
    pool.ConnectionCls = type(base.__name__, (base,), {"allowed_hosts": allowed})
    try:
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers=request_headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        status = response.status
        response.release_conn()
    except AddressRefused as refused:
        return Outcome(False, error=str(refused))
    except (HTTPError, OSError) as error:
        return Outcome(False, error=f"could not deliver ({_words(error)})")
    finally:
        pool.close()
    if 200 <= status < 300:
        return Outcome(True, status)
    if 300 <= status < 400:
        return Outcome(False, status, f"the receiver answered {status}; redirects are refused")
    return Outcome(False, status, f"the receiver answered {status}")


def _words(error: Exception) -> str:
    """What went wrong, in our words: never text a remote server chose."""
    text = repr(error).lower()
    for needle, words in (
        ("timed out", "timed out"),
        ("timeout", "timed out"),
        ("refused", "connection refused"),
        ("certificate", "TLS certificate not accepted"),
        ("ssl", "TLS failed"),
        ("reset", "connection reset"),
    ):
        if needle in text:
            return words
    return type(error).__name__
