"""Webhook notifications: signed as the Standard Webhooks specification says, retried with
a capped backoff, and never sent to an address that is not public.

The receiver below is written from the specification, not from our code: it takes the
secret's base64 after ``whsec_``, signs ``<webhook-id>.<webhook-timestamp>.<body>`` with
HMAC-SHA256, and accepts when one of the space-separated ``v1,<signature>`` entries of
``webhook-signature`` matches, within five minutes of the timestamp. It listens on an
ephemeral port of 127.0.0.1, which the tests allow by name where they mean to deliver.
"""

import base64
import datetime as dt
import hashlib
import hmac
import http.server
import json
import socket
import threading
import time

import pytest

from mlprojects.exceptions import DomainError
from monitoring import services, webhooks
from monitoring.choices import ChannelKind, DeliveryStatus, MonitorKind, ResultStatus
from monitoring.models import DeliveryAttempt, Notification, Result

TOLERANCE = 5 * 60


def verify(secret: str, headers, body: bytes) -> bool:
    """Standard Webhooks verification, from the specification."""
    msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(stamp)) > TOLERANCE:
        return False
    key = base64.b64decode(secret[len("whsec_") :])
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    for entry in headers["webhook-signature"].split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


class Receiver:
    """An HTTP server that records what it gets and answers from a script of statuses."""

    def __init__(self, answers=(204,)):
        self.answers = list(answers)
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = (
                    receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                )
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("location", "http://127.0.0.1:9/elsewhere")
                payload = b"INTERNAL-DETAIL-never-shown"
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def allow_loopback(settings):
    settings.MONITORING_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "hooks.internal.test"]
    settings.MONITORING_DELIVERY_BACKOFF_SECONDS = 30
    settings.MONITORING_DELIVERY_MAX_BACKOFF_SECONDS = 45
    settings.MONITORING_DELIVERY_MAX_ATTEMPTS = 3
    settings.MONITORING_WEBHOOK_TIMEOUT_SECONDS = 5


def firing_notification(production, url: str) -> Notification:
    channel = services.channel_create(
        project=production.project, kind=ChannelKind.WEBHOOK, name="hook", address=url, by=None
    )
    assert channel.secret.startswith("whsec_")
    monitor = production.monitor(MonitorKind.FRESHNESS)
    now = dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(hours=1)
    result = Result.objects.create(
        monitor=monitor,
        window_start=start,
        window_end=now,
        status=ResultStatus.ALERT,
        summary="No batch for 30 hours.",
        computed_at=now,
    )
    alert = services.alert_evaluate(monitor=monitor, result=result, now=now)
    return alert.notifications.get()


@pytest.mark.django_db
def test_a_receiver_written_from_the_specification_verifies_the_signature(
    production, allow_loopback
):
    with Receiver() as receiver:
        notification = firing_notification(production, f"http://127.0.0.1:{receiver.port}/hook")
        assert services.notification_deliver(notification_id=notification.pk) == "delivered"
    ((headers, body),) = receiver.received
    assert verify(notification.channel.secret, headers, body)
    assert not verify(webhooks.new_secret(), headers, body)
    assert headers["webhook-id"] == notification.message_id
    assert json.loads(body) == notification.payload
    assert json.loads(body)["type"] == "alert.firing"
    attempt = DeliveryAttempt.objects.get(notification=notification)
    assert (attempt.ok, attempt.status_code) == (True, 204)


@pytest.mark.django_db
def test_retries_keep_the_message_id_back_off_and_stop_at_the_cap(production, allow_loopback):
    with Receiver(answers=[503]) as receiver:
        notification = firing_notification(production, f"http://127.0.0.1:{receiver.port}/hook")
        now = dt.datetime.now(dt.UTC)
        delays = []
        for _ in range(5):
            status = services.notification_deliver(notification_id=notification.pk, now=now)
            notification.refresh_from_db()
            if notification.next_attempt_at:
                delays.append((notification.next_attempt_at - now).total_seconds())
                # Not due yet: a redelivered task right now sends nothing.
                assert (
                    services.notification_deliver(notification_id=notification.pk, now=now) is None
                )
                now = notification.next_attempt_at
            if status == DeliveryStatus.ABANDONED:
                break
    assert status == DeliveryStatus.ABANDONED
    assert delays == [30, 45]  # 30 s, then 60 s capped at 45 s
    assert notification.attempts == 3 and notification.next_attempt_at is None
    assert len(receiver.received) == 3
    assert {h["webhook-id"] for h, _ in receiver.received} == {notification.message_id}
    assert all(verify(notification.channel.secret, h, b) for h, b in receiver.received)
    attempts = list(notification.delivery_attempts.values_list("ok", "status_code", "error"))
    assert attempts == [(False, 503, "the receiver answered 503")] * 3
    assert services.notification_deliver(notification_id=notification.pk, now=now) is None
    assert services.notifications_due(now=now + dt.timedelta(days=1)) == []


@pytest.mark.django_db
def test_a_failure_then_a_success(production, allow_loopback):
    with Receiver(answers=[500, 200]) as receiver:
        notification = firing_notification(production, f"http://127.0.0.1:{receiver.port}/hook")
        now = dt.datetime.now(dt.UTC)
        assert services.notification_deliver(notification_id=notification.pk, now=now) == "pending"
        assert services.notifications_due(now=now) == []
        later = now + dt.timedelta(seconds=30)
        assert services.notifications_due(now=later) == [notification.pk]
        assert (
            services.notification_deliver(notification_id=notification.pk, now=later) == "delivered"
        )
    assert len(receiver.received) == 2


@pytest.mark.django_db
def test_redirects_are_refused_and_answers_never_kept(production, allow_loopback):
    with Receiver(answers=[302]) as receiver:
        notification = firing_notification(production, f"http://127.0.0.1:{receiver.port}/hook")
        services.notification_deliver(notification_id=notification.pk)
    assert len(receiver.received) == 1  # the redirect was not followed
    attempt = DeliveryAttempt.objects.get(notification=notification)
    assert not attempt.ok and attempt.status_code == 302
    assert "redirects are refused" in attempt.error
    stored = json.dumps(list(DeliveryAttempt.objects.values()), default=str)
    stored += json.dumps(list(Notification.objects.values()), default=str)
    assert "INTERNAL-DETAIL" not in stored


@pytest.mark.parametrize(
    ("host", "words"),
    [
        ("127.0.0.1", "loopback"),
        ("localhost", "loopback"),  # a name that resolves to loopback
        ("[::1]", "loopback"),
        ("2130706433", "loopback"),  # 127.0.0.1 written as one number
        ("[::ffff:127.0.0.1]", "embeds 127.0.0.1"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("[fd00:ec2::254]", "private"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 (an address refused, not bound)
    ],
)
def test_addresses_that_are_not_public_are_refused_before_any_packet(host, words, settings):
    settings.MONITORING_WEBHOOK_ALLOWED_HOSTS = []
    with Receiver() as receiver:
        url = f"http://{host}:{receiver.port}/hook"
        outcome = webhooks.post(url, b"{}", {}, timeout=2)
    assert not outcome.ok
    assert words in outcome.error
    assert receiver.received == []


def test_a_name_rebound_to_loopback_at_connect_time_is_refused(monkeypatch):
    """DNS is outside the machine, so it is the one thing faked: the name resolved to a
    public address when someone looked, and to loopback when the delivery connects."""
    answers = iter(["93.184.216.34", "127.0.0.1"])
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host == "hooks.example.com":
            address = next(answers)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    assert webhooks.address_refusal(socket.getaddrinfo("hooks.example.com", 80)[0][4][0]) is None
    with Receiver() as receiver:
        outcome = webhooks.post(f"http://hooks.example.com:{receiver.port}/", b"{}", {}, timeout=2)
    assert not outcome.ok and "loopback" in outcome.error
    assert receiver.received == []


def test_a_listed_host_may_resolve_to_a_private_address(monkeypatch):
    real = socket.getaddrinfo

    def internal(host, port, *args, **kwargs):
        if host == "hooks.internal.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", internal)
    with Receiver() as receiver:
        url = f"http://hooks.internal.test:{receiver.port}/"
        assert webhooks.post(url, b"{}", {}, timeout=2, allowed_hosts=["hooks.internal.test"]).ok
        assert not webhooks.post(url, b"{}", {}, timeout=2).ok
    assert len(receiver.received) == 1


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.org/hook", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http:///nohost", "no host"),
        ("https://user:secret@example.org/", "user name or password"),
        ("http://example.org:99999/", "not a valid URL"),
    ],
)
def test_urls_are_http_or_https_with_a_host(url, words):
    outcome = webhooks.post(url, b"{}", {}, timeout=1)
    assert not outcome.ok and words in outcome.error


@pytest.mark.django_db
def test_channels_refuse_literal_private_addresses_at_once(production, settings):
    settings.MONITORING_WEBHOOK_ALLOWED_HOSTS = []
    for url in ("http://127.0.0.1/", "http://[::1]/x", "http://169.254.169.254/", "gopher://a/"):
        with pytest.raises(DomainError) as refused:
            services.channel_create(
                project=production.project, kind=ChannelKind.WEBHOOK, name="x", address=url, by=None
            )
        assert "address" in refused.value.fields
    with pytest.raises(DomainError, match="not an email address"):
        services.channel_create(
            project=production.project, kind=ChannelKind.EMAIL, name="m", address="ops@", by=None
        )


def test_public_addresses_pass_the_check():
    for address in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"):
        assert webhooks.address_refusal(address) is None
    for address in ("100.64.0.1", "198.18.0.1", "224.0.0.1", "64:ff9b::a00:1", "2002:7f00:1::"):
        assert webhooks.address_refusal(address) is not None
