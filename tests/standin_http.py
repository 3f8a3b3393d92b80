"""What the local stand-in servers of the tests (kds_server.py, pcs_server.py) share.

base_handler(log, name): a request handler class to subclass, HTTP/1.1, quiet on stderr, that
appends one line a request to the file log (when not None) before it answers: "<status>
<path>" for GET, "<status> <METHOD> <path>" for any other method; _send(status, body, extra)
answers with a body (none for HEAD) and the extra headers.

serve(handler, max_seconds, tls=None): listens on 127.0.0.1 on a port the OS picks, prints the
port as the first line of stdout, and serves until killed or until max_seconds have passed;
with tls = (certificate file, key file) it speaks HTTPS.

Standard library only.
"""

import http.server
import ssl
import sys
import threading


def base_handler(log, name):
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = name

        def log_message(self, fmt, *a):  # keep stderr quiet; the log file says what happened
            pass

        def _record(self, status):
            if log:
                with lock, open(log, "a", encoding="utf-8") as f:
                    if self.command == "GET":
                        f.write("%d %s\n" % (status, self.path))
                    else:
                        f.write("%d %s %s\n" % (status, self.command, self.path))

        def _send(self, status, body, extra=()):
            # Logged before answering, so a client that has its answer can count on the line.
            self._record(status)
            self.send_response(status)
            for k, v in extra:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    return Handler


def serve(handler, max_seconds, tls=None):
    if tls:
        plain = handler

        class handler(plain):  # the TLS handshake in the connection's thread, bounded
            def setup(self):
                self.request.settimeout(10)
                self.request.do_handshake()
                super().setup()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        # not in accept(): a client that connects and says nothing would stall every other
        # one, and the --max-seconds shutdown behind it
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    sys.stdout.write("%d\n" % srv.server_address[1])
    sys.stdout.flush()
    timer = threading.Timer(max_seconds, srv.shutdown)
    timer.daemon = True
    timer.start()
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0
