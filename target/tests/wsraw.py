"""wsraw.py - a WebSocket and HTTP client on bare sockets, for tests that
must send what a well-behaved library never would: header bytes that are
not UTF-8, binary frames, a client that never reads, requests with bodies.

Every read has a deadline; nothing here retries. Used by
target/tests/hostile_gateway.py, the browser test and scripts/soak.
"""
import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import time


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(secret, claims, header=None):
    """An HS256 token for claims (a dict, or JSON text kept as it is), as
    any JWT library mints one."""
    h = header if header is not None else '{"alg":"HS256"}'
    p = claims if isinstance(claims, str) else json.dumps(
        claims, separators=(",", ":"))
    signing = b64url(h.encode()) + "." + b64url(p.encode())
    mac = hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest()
    return signing + "." + b64url(mac)


def mint_length(secret, sub, length, exp=None):
    """A token of exactly length bytes (padded with a claim), or the
    shortest one longer when base64 steps over it."""
    exp = exp or int(time.time()) + 600
    pad = 0
    while True:
        t = mint(secret, {"sub": sub, "exp": exp, "pad": "x" * pad})
        if len(t) >= length:
            return t
        pad += 1


def http(port, method, path, headers=b"", body=b"", timeout=5.0,
         host="127.0.0.1"):
    """One request; returns (status, headers text, body bytes), status -1
    when the connection ended without a whole response."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        if isinstance(path, str):
            path = path.encode()
        req = (method.encode() + b" " + path + b" HTTP/1.1\r\nHost: " +
               host.encode() + b"\r\nConnection: close\r\n" + headers)
        if body or method == "POST":
            req += b"Content-Length: %d\r\n" % len(body)
        s.sendall(req + b"\r\n" + body)
        data = b""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
            head, sep, rest = data.partition(b"\r\n\r\n")
            if sep:
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length" and \
                            len(rest) >= int(v):
                        return (int(head.split()[1]), head.decode("latin-1"),
                                rest[:int(v)])
        return -1, data.decode("latin-1"), b""
    finally:
        s.close()


class WS:
    """A client WebSocket. .status is the upgrade's HTTP status (101 when
    it worked); .protocol the subprotocol the server chose."""

    def __init__(self, port, path="/ws", headers=b"", protocols=None,
                 rcvbuf=None, timeout=5.0, host="127.0.0.1"):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        key = base64.b64encode(os.urandom(16))
        if isinstance(path, str):
            path = path.encode()
        req = (b"GET " + path + b" HTTP/1.1\r\nHost: " + host.encode() +
               b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Key: " + key +
               b"\r\nSec-WebSocket-Version: 13\r\n")
        if protocols:
            req += b"Sec-WebSocket-Protocol: " + ", ".join(
                protocols).encode() + b"\r\n"
        self.sock.sendall(req + headers + b"\r\n")
        self.buf = b""
        self.status, self.protocol = -1, None
        deadline = time.time() + timeout
        while b"\r\n\r\n" not in self.buf and time.time() < deadline:
            try:
                chunk = self.sock.recv(4096)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            self.buf += chunk
        head, sep, self.buf = self.buf.partition(b"\r\n\r\n")
        if sep:
            lines = head.decode("latin-1").split("\r\n")
            self.status = int(lines[0].split()[1])
            for line in lines[1:]:
                k, _, v = line.partition(":")
                if k.strip().lower() == "sec-websocket-protocol":
                    self.protocol = v.strip()
        self.close_code = None

    def send_frame(self, opcode, payload, fin=True):
        if isinstance(payload, str):
            payload = payload.encode()
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send_text(self, text):
        self.send_frame(1, text)

    def send_json(self, obj):
        self.send_frame(1, json.dumps(obj))

    def _need(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.time()
            if left <= 0:
                raise socket.timeout("frame")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk

    def recv_frame(self, timeout=5.0):
        """(opcode, payload); EOFError at the end, socket.timeout."""
        deadline = time.time() + timeout
        self._need(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        n, off = b1 & 0x7f, 2
        if n == 126:
            self._need(4, deadline)
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10, deadline)
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._need(off + n, deadline)
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        op = b0 & 0x0f
        if op == 8:
            self.close_code = (struct.unpack("!H", payload[:2])[0]
                               if len(payload) >= 2 else 1005)
        return op, payload

    def recv_json(self, timeout=5.0):
        """The next text message as JSON; None at a close or the end."""
        deadline = time.time() + timeout
        while True:
            try:
                op, payload = self.recv_frame(max(0.01,
                                                  deadline - time.time()))
            except (EOFError, ConnectionResetError):
                return None
            if op == 1:
                return json.loads(payload)
            if op == 8:
                return None
            if op == 9:
                self.send_frame(10, payload)  # a ping is answered

    def until_close(self, timeout=5.0):
        """Every text message up to the close; (messages, close code),
        the code None when the socket ended without a close frame."""
        out = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                op, payload = self.recv_frame(deadline - time.time())
            except (EOFError, ConnectionResetError, BrokenPipeError):
                break
            except socket.timeout:
                break
            if op == 1:
                out.append(json.loads(payload))
            elif op == 8:
                break
            elif op == 9:
                self.send_frame(10, payload)  # a ping is answered
        return out, self.close_code

    def close(self):
        try:
            self.send_frame(8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()
