#!/usr/bin/env python3
"""Echo upstream behind the test gateway (oauth2-proxy), standard library only.

Answers every request with JSON describing what arrived, so tests can check what the
gateway forwarded. Secrets are not echoed: for ``Authorization`` only the scheme and,
for a JWT bearer token, a few unverified payload claims (iss, aud, email) are
returned; for cookies only their names.

Usage: echo_upstream.py PORT   (binds 127.0.0.1 only)
"""

import base64
import binascii
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


def jwt_claims(token):
    """Unverified iss/aud/email claims of a JWT, or None when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(claims, dict):
        return None
    return {key: claims.get(key) for key in ("iss", "aud", "email")}


def describe_authorization(value):
    if value is None:
        return None
    scheme, _, credentials = value.partition(" ")
    return {"scheme": scheme, "jwt_claims": jwt_claims(credentials.strip())}


def cookie_names(header):
    if header is None:
        return []
    names = []
    for part in header.split(";"):
        name = part.split("=", 1)[0].strip()
        if name:
            names.append(name)
    return names


class Handler(BaseHTTPRequestHandler):
    server_version = "kubeflow-rs-echo/1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 1 << 20))
        url = urlsplit(self.path)
        body = json.dumps(
            {
                "method": self.command,
                "path": url.path,
                "query": url.query,
                "authorization": describe_authorization(self.headers.get("Authorization")),
                "x_forwarded_email": self.headers.get("X-Forwarded-Email"),
                "x_forwarded_user": self.headers.get("X-Forwarded-User"),
                "x_auth_request_email": self.headers.get("X-Auth-Request-Email"),
                "cookie_names": cookie_names(self.headers.get("Cookie")),
            },
            sort_keys=True,
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

    def log_message(self, format, *args):  # noqa: A002 (stdlib signature)
        # Request lines only (method, path, status): no headers, so no secrets.
        sys.stderr.write("echo: %s\n" % (format % args))


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: echo_upstream.py PORT\n")
        return 2
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    sys.stderr.write("echo: listening on 127.0.0.1:%d\n" % server.server_address[1])
    sys.stderr.flush()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
