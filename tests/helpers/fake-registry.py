"""A stand-in for the npm registry and GitHub's releases API, on 127.0.0.1.

usage: fake-registry.py PORTFILE VERSION
Serves GET /@anthropic-ai%2fclaude-code (npm's packument, latest VERSION)
and GET /releases/latest (a GitHub release, tag vVERSION); writes the port
it listens on to PORTFILE, then serves until killed.
"""
import http.server
import json
import sys

version = sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if "claude-code" in self.path:
            doc = {"name": "@anthropic-ai/claude-code",
                   "dist-tags": {"latest": version},
                   "versions": {version: {"name": "@anthropic-ai/claude-code",
                                          "version": version,
                                          "dist": {"tarball": "http://127.0.0.1/x.tgz"}}},
                   "time": {version: "2026-11-30T00:00:00.000Z"}}
        elif self.path.endswith("/releases/latest"):
            doc = {"tag_name": "v" + version,
                   "published_at": "2026-11-30T12:00:00Z",
                   "html_url": "https://github.com/anthropics/claude-code/releases/tag/v" + version,
                   "body": "* Fixed the thing\n* Faster startup"}
        else:
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
