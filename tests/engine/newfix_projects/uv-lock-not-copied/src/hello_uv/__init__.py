"""A tiny HTTP server: answers GET / with a greeting that names its dependency."""

import os
from http.server import BaseHTTPRequestHandler, HTTPServer

import idna

GREETING = "hello v1"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{GREETING} {idna.encode('bücher.example').decode()}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    HTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8000"))), Handler).serve_forever()
