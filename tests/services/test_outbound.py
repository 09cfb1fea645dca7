"""services/outbound.py: a user-supplied URL is assumed hostile. Only public http(s) addresses are fetched, each
redirect is checked again, and the connection goes to the address that was checked."""

import http.server
import threading

import pytest

from tasks_app.services.outbound import OutboundError, outbound_get, outbound_url_check


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/a.pdf", "Only http:// and https://"),
        ("file:///etc/passwd", "Only http:// and https://"),
        ("http://user:pw@example.com/a.pdf", "credentials"),
        ("http://127.0.0.1/a.pdf", "private or local"),
        ("http://localhost/a.pdf", "private or local"),
        ("http://10.1.2.3/a.pdf", "private or local"),
        ("http://192.168.0.1/a.pdf", "private or local"),
        ("http://169.254.169.254/latest/meta-data/", "private or local"),
        ("http://[::1]/a.pdf", "private or local"),
        ("http://[::ffff:127.0.0.1]/a.pdf", "private or local"),
        ("http://0.0.0.0/a.pdf", "private or local"),
        ("http://93.184.215.14:22/a.pdf", "Port 22 is not allowed"),
        ("http://[not-a-host/a.pdf", "not valid"),
    ],
)
def test_urls_that_are_never_fetched(url, message):
    with pytest.raises(OutboundError, match=message):
        outbound_url_check(url)


def test_a_public_address_passes_and_is_pinned():
    checked = outbound_url_check("https://93.184.215.14/report.pdf")
    assert (checked.host, checked.ip, checked.port) == ("93.184.215.14", "93.184.215.14", 443)


@pytest.fixture
def local_server():
    """Answers /doc with a body and /hop with a redirect to a private address."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path == "/hop":
                self.send_response(302)
                self.send_header("Location", "http://10.0.0.1/secret")
                self.end_headers()
                return
            body = f"host={self.headers['Host']}".encode()
            self.send_response(200 if self.path == "/doc" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_an_allowed_host_is_fetched_and_every_redirect_is_checked_again(local_server, settings):
    with pytest.raises(OutboundError, match="private or local"):
        outbound_url_check(f"{local_server}/doc")  # loopback, not allowed by default
    settings.CHUNKR_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1"]
    with outbound_get(f"{local_server}/doc") as response:
        assert response.read() == f"host=127.0.0.1:{local_server.rsplit(':', 1)[1]}".encode()
    with pytest.raises(OutboundError, match="private or local"), outbound_get(f"{local_server}/hop"):
        pass
    with pytest.raises(OutboundError, match="HTTP 404"), outbound_get(f"{local_server}/missing"):
        pass
