#!/usr/bin/env python3
"""webhook-server.py PORTFILE LOG: a loopback HTTP server for webhook.sh.

Listens on 127.0.0.1 (a free port, written to PORTFILE), appends each POST
body as one line to LOG with its Content-Type, answers 204, and exits by
itself after 60 seconds.
"""
import http.server
import sys
import threading


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
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
threading.Timer(60, server.shutdown).start()
server.serve_forever()
