#!/usr/bin/env python3
"""fake-registry.py PORTFILE - a misbehaving OCI registry on 127.0.0.1 for
berth's image tests.  Writes the port it listens on to PORTFILE.

Repositories (tag `x` everywhere):
  good/img        a valid one-layer image
  auth/img        the same, behind the anonymous bearer-token flow
  bad/json        a manifest that is not JSON
  bad/nolayers    a manifest without a layers array
  bad/digest      a manifest whose layer digest is not a sha256 digest
  bad/header      a manifest whose Docker-Content-Digest header lies
  bad/size        a valid manifest whose config blob is longer than declared
  stall/img       a valid manifest; the layer blob stops half way and hangs
"""
import gzip
import hashlib
import io
import json
import socketserver
import sys
import tarfile
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def make_layer(text):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        data = text * 2000
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        info.mtime = 1700000000
        t.addfile(info, io.BytesIO(data))
    tar = raw.getvalue()
    # level 0: stays big enough that half of it is many network writes
    return tar, gzip.compress(tar, compresslevel=0, mtime=0)


def make_config(tar):
    return json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/hello"]},
        "rootfs": {"type": "layers", "diff_ids": [sha(tar)]},
    }).encode()


TAR, LAYER = make_layer(b"hello from the fake registry\n")
CONFIG = make_config(TAR)
# the stalling repository has a layer of its own (not already in the store)
STALL_TAR, STALL_LAYER = make_layer(b"this layer never arrives whole\n")
STALL_CONFIG = make_config(STALL_TAR)


def manifest(layers=None, config=None, cfg=CONFIG, layer=LAYER):
    m = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": config or {"mediaType": "application/vnd.oci.image.config.v1+json",
                             "digest": sha(cfg), "size": len(cfg)},
    }
    if layers is not False:
        m["layers"] = layers or [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                  "digest": sha(layer), "size": len(layer)}]
    return json.dumps(m).encode()


GOOD = manifest()
SHORT_CONFIG = CONFIG[:-10]
MANIFESTS = {
    "good/img": GOOD,
    "auth/img": GOOD,
    "stall/img": manifest(cfg=STALL_CONFIG, layer=STALL_LAYER),
    "bad/json": b'{"schemaVersion": 2, "mediaType": "' + OCI_MANIFEST.encode() + b'", "layers": [',
    "bad/nolayers": manifest(layers=False),
    "bad/digest": manifest(layers=[{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                    "digest": "sha256:../../../../etc/passwd", "size": 10}]),
    "bad/header": GOOD,
    "bad/size": manifest(config={"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "digest": sha(SHORT_CONFIG), "size": len(SHORT_CONFIG)}),
}
TOKEN = "t0ken-for-berth"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body=b"", ctype="application/json", headers=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/v2/":
            return self.send(200, b"{}")
        if path == "/token":
            return self.send(200, json.dumps({"token": TOKEN}).encode())
        parts = path.split("/")
        # /v2/<ns>/<name>/<kind>/<ref>
        if len(parts) != 6 or parts[0] != "" or parts[1] != "v2":
            return self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"no such repo"}]}')
        repo, kind, ref = parts[2] + "/" + parts[3], parts[4], parts[5]
        if repo == "auth/img" and self.headers.get("Authorization") != "Bearer " + TOKEN:
            realm = "http://127.0.0.1:%d/token" % self.server.server_address[1]
            return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"auth"}]}', headers={
                "WWW-Authenticate": 'Bearer realm="%s",service="fake",scope="repository:auth/img:pull"' % realm})
        if kind == "manifests" and repo in MANIFESTS:
            body = MANIFESTS[repo]
            digest = sha(body) if repo != "bad/header" else sha(b"lie")
            return self.send(200, body, ctype=OCI_MANIFEST, headers={"Docker-Content-Digest": digest})
        if kind == "blobs":
            if ref == sha(CONFIG):
                return self.send(200, CONFIG, ctype="application/octet-stream")
            if ref == sha(SHORT_CONFIG):
                return self.send(200, CONFIG, ctype="application/octet-stream")
            if ref == sha(STALL_CONFIG):
                return self.send(200, STALL_CONFIG, ctype="application/octet-stream")
            if ref == sha(STALL_LAYER):
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(STALL_LAYER)))
                self.end_headers()
                self.wfile.write(STALL_LAYER[: len(STALL_LAYER) // 2])
                self.wfile.flush()
                time.sleep(60)
                return
            if ref == sha(LAYER):
                return self.send(200, LAYER, ctype="application/octet-stream")
        return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"unknown"}]}')


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
