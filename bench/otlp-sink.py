#!/usr/bin/env python3
"""A stand-in OTLP/HTTP collector for the benchmarks: answers every POST 200 and counts the
bytes and requests it took (printed on SIGTERM/SIGINT). Keep-alive HTTP/1.1, so a service's
exporter keeps its one connection, as with a real collector.

    bench/otlp-sink.py PORT &
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:PORT bench/instructions.sh …
"""
import http.server
import signal
import sys

requests = 0
received = 0


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global requests, received
        length = int(self.headers.get("content-length", "0"))
        received += len(self.rfile.read(length))
        requests += 1
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def report(*_):
    print(f"otlp-sink: {requests} exports, {received} bytes", flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, report)
signal.signal(signal.SIGINT, report)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
