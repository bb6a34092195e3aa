#!/usr/bin/env python3
"""webhook-server.py PORTFILE LOG [stall]: a loopback HTTP server for webhook.sh.

Listens on 127.0.0.1 (a free port, written to PORTFILE), appends each POST
body as one line to LOG with its Content-Type, answers 204, and exits by
itself after 60 seconds.  With `stall' it takes connections and never
answers them: an endpoint that hangs.
"""
import http.server
import os
import socket
import sys
import threading
import time


def write_port(port):
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])


if len(sys.argv) > 3 and sys.argv[3] == "stall":
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    write_port(sock.getsockname()[1])
    held = []
    sock.settimeout(1)
    end = time.time() + 60
    while time.time() < end:
        try:
            conn, _ = sock.accept()
            held.append(conn)   # read nothing, answer nothing
        except socket.timeout:
            pass
    sys.exit(0)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = min(int(self.headers.get("Content-Length", "0")), 1 << 20)
        body = self.rfile.read(length).decode("utf-8", "replace")
        with open(sys.argv[2], "a") as log:
            log.write("%s %s %s\n" % (self.path, self.headers.get("Content-Type"), body.replace("\n", " ")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
write_port(server.server_address[1])
threading.Timer(60, server.shutdown).start()
server.serve_forever()
