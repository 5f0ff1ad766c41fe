"""pygw.py - start and stop the example Python gateway in tests.

    with PyGateway(secret="s", sync_control=PATH) as gw:
        run(["wsrace", "run", "--url", gw.url, "--secret", "s", ...])

PyGateway starts `/usr/bin/python3 gateway.py --port 0` (Debian's
python3-websockets needs that interpreter), with WSRACE_SYNC_CONTROL set
when sync_control is given, and waits for its `listening HOST:PORT` line;
stop() sends SIGTERM, then SIGKILL, and returns the exit status. Every wait
is bounded (multiplied by WSRACE_TEST_TIME_SCALE).
"""
import base64
import hashlib
import hmac
import json
import os
import selectors
import signal
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GATEWAY = os.path.join(os.path.dirname(HERE), "gateway.py")
PYTHON = "/usr/bin/python3"
SCALE = max(1.0, float(os.environ.get("WSRACE_TEST_TIME_SCALE") or 1))


def mint_token(secret, user, ttl=3600):
    """An HS256 token as wsrace-gateway's `token` command makes it."""
    def b64(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    head = b64(b'{"alg":"HS256"}')
    body = b64(json.dumps({"sub": user, "exp": int(time.time()) + ttl},
                          separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), (head + "." + body).encode(),
                   hashlib.sha256).digest()
    return head + "." + body + "." + b64(sig)


class PyGateway:
    def __init__(self, secret="py-secret", sync_control=None, extra=(),
                 start_timeout=10.0):
        self.secret, self.sync_control = secret, sync_control
        self.extra, self.start_timeout = list(extra), start_timeout * SCALE
        self.proc, self.port, self.url, self.log = None, None, None, ""

    def start(self):
        """Starts the gateway; raises RuntimeError when it does not listen
        in time (and leaves nothing running)."""
        self._err = tempfile.TemporaryFile()  # stderr: never a full pipe
        env = dict(os.environ)
        env.pop("WSRACE_SYNC_CONTROL", None)
        if self.sync_control:
            env["WSRACE_SYNC_CONTROL"] = self.sync_control
        self.proc = subprocess.Popen(
            [PYTHON, GATEWAY, "--host", "127.0.0.1", "--port", "0",
             "--secret", self.secret] + self.extra,
            stdout=subprocess.PIPE, stderr=self._err, env=env)
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline, buf = time.monotonic() + self.start_timeout, b""
        while b"\n" not in buf and time.monotonic() < deadline:
            if sel.select(deadline - time.monotonic()):
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
        sel.close()
        line = buf.split(b"\n")[0].decode(errors="replace")
        if not line.startswith("listening "):
            self.stop()
            self.log = buf.decode(errors="replace") + self.stderr()
            raise RuntimeError("gateway did not start: %r" % self.log[-2000:])
        self.port = int(line.rsplit(":", 1)[1])
        self.url = "ws://127.0.0.1:%d/ws" % self.port
        return self

    def stderr(self):
        """What the gateway wrote on its standard error so far."""
        self._err.seek(0)
        return self._err.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Stops the gateway; its exit status (negative: a signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout * SCALE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        return self.proc.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
