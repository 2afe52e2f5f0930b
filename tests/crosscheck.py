#!/usr/bin/env python3
"""Independent cross-check of proto/PROTOCOL.md against proto/vectors/.

A second implementation of the mycel protocol written from the document alone
(standard library only): canonical MessagePack, Ed25519 (RFC 8032), entries,
fork proofs and charters. It runs every golden vector and prints one line per
group, then `N passed, N failed`; it exits 1 if anything failed.

Usage: tests/crosscheck.py [-v] [VECTOR_DIR]
"""
import hashlib
import math
import os
import re
import struct
import sys

VERBOSE = "-v" in sys.argv[1:]
ARGS = [a for a in sys.argv[1:] if a != "-v"]
VDIR = ARGS[0] if ARGS else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "proto", "vectors")


# --------------------------------------------------------------------------
# Canonical MessagePack (PROTOCOL.md §1)
# --------------------------------------------------------------------------

class Err(Exception):
    """A refusal; .code is the error class (mycel's name where one is known)."""

    def __init__(self, code, why=""):
        super().__init__(code + (": " + why if why else ""))
        self.code = code


MAX_DEPTH = 32


class Reader:
    def __init__(self, buf):
        self.b = bytes(buf)
        self.p = 0

    def left(self):
        return len(self.b) - self.p

    def take(self, n):
        if n > self.left():
            raise Err("ETRUNC", "need %d bytes, %d left" % (n, self.left()))
        s = self.b[self.p:self.p + n]
        self.p += n
        return s

    def uint(self, n):
        return int.from_bytes(self.take(n), "big")

    def peek(self):
        if self.p >= len(self.b):
            raise Err("ETRUNC", "no byte left")
        return self.b[self.p]

    def container_header(self):
        """If the next value is an array or map, read its header (with the canonical
        and length checks) and return ('array'|'map', n); else return None."""
        t = self.peek()
        if 0x90 <= t <= 0x9f or t in (0xdc, 0xdd):
            kind, per = "array", 1
        elif 0x80 <= t <= 0x8f or t in (0xde, 0xdf):
            kind, per = "map", 2
        else:
            return None
        self.p += 1
        if t & 0xf0 in (0x80, 0x90):
            n = t & 0x0f
        else:
            wide = t in (0xdd, 0xdf)
            n = self.uint(4 if wide else 2)
            if n < (65536 if wide else 16):
                raise Err("ENONCANON", "%s length %d in a wider form" % (kind, n))
        if per * n > self.left():
            raise Err("ETRUNC", "%s of %d needs at least %d bytes" % (kind, n, per * n))
        return kind, n

    def value(self, depth=0):
        t = self.peek()
        hdr = self.container_header()
        if hdr is not None:
            kind, n = hdr
            if depth >= MAX_DEPTH:
                raise Err("EDEPTH")
            if kind == "array":
                return [self.value(depth + 1) for _ in range(n)]
            out, prev = {}, None
            for _ in range(n):
                k = self.value(depth + 1)
                if not isinstance(k, str):
                    raise Err("EKEYTYPE")
                kb = k.encode("utf-8")
                if prev is not None and kb <= prev:
                    raise Err("EKEYORDER")
                prev = kb
                out[k] = self.value(depth + 1)
            return out
        self.p += 1
        if t <= 0x7f:
            return t
        if t >= 0xe0:
            return t - 0x100
        if 0xa0 <= t <= 0xbf:
            return self._str(t & 0x1f)
        if t == 0xc0:
            return None
        if t in (0xc2, 0xc3):
            return t == 0xc3
        if t in (0xcc, 0xcd, 0xce, 0xcf):
            w = 1 << (t - 0xcc)
            v = self.uint(w)
            if v < (0x80, 0x100, 0x10000, 0x100000000)[t - 0xcc]:
                raise Err("ENONCANON", "uint %d in %d bytes" % (v, w))
            return v
        if t in (0xd0, 0xd1, 0xd2, 0xd3):
            w = 1 << (t - 0xd0)
            v = int.from_bytes(self.take(w), "big", signed=True)
            if v >= -(0x20, 0x80, 0x8000, 0x80000000)[t - 0xd0]:
                raise Err("ENONCANON", "int %d in %d bytes" % (v, w))
            return v
        if t == 0xcb:
            v = struct.unpack(">d", self.take(8))[0]
            if math.isnan(v) or math.isinf(v):
                raise Err("EFLOAT")
            return v
        if t == 0xca:
            raise Err("EFLOAT", "float32")
        if t in (0xd9, 0xda, 0xdb):
            w = 1 << (t - 0xd9)
            n = self.uint(w)
            if n < (32, 0x100, 0x10000)[t - 0xd9]:
                raise Err("ENONCANON", "str of %d in str%d" % (n, 8 * w))
            return self._str(n)
        if t in (0xc4, 0xc5, 0xc6):
            w = 1 << (t - 0xc4)
            n = self.uint(w)
            if n < (0, 0x100, 0x10000)[t - 0xc4]:
                raise Err("ENONCANON", "bin of %d in bin%d" % (n, 8 * w))
            return self.take(n)
        # c1, ext family (c7-c9, d4-d8)
        raise Err("EUNSUPPORTED", "type byte %02x" % t)

    def _str(self, n):
        raw = self.take(n)
        try:
            return raw.decode("utf-8")  # Python's decoder is strict: no overlongs/surrogates/>10FFFF
        except UnicodeDecodeError:
            raise Err("EUTF8")

    def end(self):
        if self.p != len(self.b):
            raise Err("ETRAILING", "%d trailing bytes" % self.left())


def decode(buf):
    r = Reader(buf)
    v = r.value()
    r.end()
    return v


def _is_uint(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def encode(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v <= 0x7f:
            return bytes([v])
        if 0x80 <= v < 1 << 64:
            for t, w in ((0xcc, 1), (0xcd, 2), (0xce, 4), (0xcf, 8)):
                if v < 1 << (8 * w):
                    return bytes([t]) + v.to_bytes(w, "big")
        if -32 <= v < 0:
            return bytes([v + 0x100])
        if -(1 << 63) <= v < -32:
            for t, w in ((0xd0, 1), (0xd1, 2), (0xd2, 4), (0xd3, 8)):
                if v >= -(1 << (8 * w - 1)):
                    return bytes([t]) + v.to_bytes(w, "big", signed=True)
        raise ValueError("integer out of range")
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            raise ValueError("NaN/inf")
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        raw = v.encode("utf-8")
        return _hdr(len(raw), 0xa0, 32, (0xd9, 0xda, 0xdb), (1, 2, 4)) + raw
    if isinstance(v, (bytes, bytearray)):
        return _hdr(len(v), None, 0, (0xc4, 0xc5, 0xc6), (1, 2, 4)) + bytes(v)
    if isinstance(v, (list, tuple)):
        return _hdr(len(v), 0x90, 16, (None, 0xdc, 0xdd), (0, 2, 4)) + b"".join(encode(x) for x in v)
    if isinstance(v, dict):
        items = sorted(((k.encode("utf-8"), x) for k, x in v.items()), key=lambda kv: kv[0])
        return _hdr(len(items), 0x80, 16, (None, 0xde, 0xdf), (0, 2, 4)) + b"".join(
            _hdr(len(k), 0xa0, 32, (0xd9, 0xda, 0xdb), (1, 2, 4)) + k + encode(x) for k, x in items)
    raise TypeError(type(v))


def _hdr(n, fix, fixmax, tags, widths):
    if fix is not None and n < fixmax:
        return bytes([fix | n])
    for t, w in zip(tags, widths):
        if t is not None and n < 1 << (8 * w):
            return bytes([t]) + n.to_bytes(w, "big")
    raise ValueError("too long")


def render(v):
    """The RENDERING column's format, as described in codec-valid.txt's header."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        s = "%.17g" % v
        if re.fullmatch(r"-?[0-9]+", s):
            s += ".0"
        return s
    if isinstance(v, str):
        out = ['"']
        for ch in v:
            if ch in '"\\':
                out.append("\\" + ch)
            elif ord(ch) < 0x20 or ord(ch) == 0x7f:
                out.append("\\u%04x" % ord(ch))
            else:
                out.append(ch)
        return "".join(out) + '"'
    if isinstance(v, bytes):
        return "h'" + v.hex() + "'"
    if isinstance(v, list):
        return "[" + ",".join(render(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(render(k) + ":" + render(x) for k, x in v.items()) + "}"
    raise TypeError(type(v))


# --------------------------------------------------------------------------
# Ed25519 (RFC 8032 §5.1), written from the RFC's mathematics
# --------------------------------------------------------------------------

P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENT = (0, 1, 1, 0)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    A = (y1 - x1) * (y2 - x2) % P
    B = (y1 + x1) * (y2 + x2) % P
    C = 2 * D * t1 * t2 % P
    Dd = 2 * z1 * z2 % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def _mul(k, pt):
    q = IDENT
    while k:
        if k & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        k >>= 1
    return q


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    return P - x if (x & 1) != sign else x


_GY = 4 * pow(5, P - 2, P) % P
_GX = _recover_x(_GY, 0)
G = (_GX, _GY, 1, _GX * _GY % P)


def _compress(pt):
    x, y, z, _ = pt
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def _h(*parts):
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little")


def _expand(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def ed_public(seed):
    return _compress(_mul(_expand(seed)[0], G))


def ed_sign(seed, msg):
    a, prefix = _expand(seed)
    A = _compress(_mul(a, G))
    r = _h(prefix, msg) % L
    R = _compress(_mul(r, G))
    S = (r + _h(R, A, msg) * a) % L
    return R + S.to_bytes(32, "little")


def ed_verify(pk, msg, sig):
    if len(sig) != 64 or len(pk) != 32:
        return False
    A = _decompress(pk)
    if A is None or _mul(8, A)[0] % P == 0:  # refuse undecodable and small-order keys
        return False
    S = int.from_bytes(sig[32:], "little")
    if S >= L:
        return False
    k = _h(sig[:32], pk, msg) % L
    negA = ((-A[0]) % P, A[1], A[2], (-A[3]) % P)
    return _compress(_add(_mul(S, G), _mul(k, negA))) == sig[:32]


def blake(x):
    return hashlib.blake2b(x, digest_size=32).digest()


# --------------------------------------------------------------------------
# Entries and fork proofs (PROTOCOL.md §2, §4)
# --------------------------------------------------------------------------

ENTRY_CTX = b"mycel/entry/v1\x00"
ID_CTX = b"mycel/id/v1\x00"
CHARTER_CTX = b"mycel/charter/v1\x00"
KIND_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
NAME_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")


def expect_array(r, n, bad="EFORMAT", badlen="EFORMAT"):
    """Next value must be an array of exactly n elements: the count is checked
    from the header, before the elements are read."""
    hdr = r.container_header()
    if hdr is None:
        r.value(1)  # a malformed value is refused as such, a well-formed one as the wrong type
        raise Err(bad, "not an array")
    if hdr[0] != "array":
        raise Err(bad, "not an array")
    if hdr[1] != n:
        raise Err(badlen, "array of %d, want %d" % (hdr[1], n))


def encode_header(feed, seq, prev, ts_ms, kind, body_hash):
    return encode([1, feed, seq, prev, ts_ms, kind, body_hash])


def decode_header(hb):
    r = Reader(hb)
    expect_array(r, 7)
    version = r.value(1)
    if not _is_uint(version):
        raise Err("EFORMAT", "version not a uint")
    if version != 1:
        raise Err("EVERSION")
    feed = r.value(1)
    if not (isinstance(feed, bytes) and len(feed) == 32):
        raise Err("EFORMAT", "feed")
    seq = r.value(1)
    if not (_is_uint(seq) and seq >= 1):
        raise Err("EFORMAT", "seq")
    prev = r.value(1)
    if not (prev is None or (isinstance(prev, bytes) and len(prev) == 32)):
        raise Err("EFORMAT", "prev type")
    if (prev is None) != (seq == 1):
        raise Err("EFORMAT", "prev nil exactly when seq = 1")
    ts = r.value(1)
    if not _is_uint(ts):
        raise Err("EFORMAT", "ts_ms")
    kind = r.value(1)
    if not (isinstance(kind, str) and KIND_RE.fullmatch(kind)):
        raise Err("EFORMAT", "kind")
    bh = r.value(1)
    if not (isinstance(bh, bytes) and len(bh) == 32):
        raise Err("EFORMAT", "body_hash")
    r.end()
    if len(hb) > 156:
        raise Err("EFORMAT", "header over 156 bytes")
    return dict(feed=feed, seq=seq, prev=prev, ts_ms=ts, kind=kind, body_hash=bh)


def decode_entry(eb):
    if len(eb) > 256:
        raise Err("ETOOBIG")
    r = Reader(eb)
    expect_array(r, 2)
    header = r.value(1)
    if not isinstance(header, bytes):
        raise Err("EFORMAT", "header not bin")
    sig = r.value(1)
    if not (isinstance(sig, bytes) and len(sig) == 64):
        raise Err("EFORMAT", "sig")
    r.end()
    h = decode_header(header)
    h.update(header=header, sig=sig, id=blake(ID_CTX + header))
    return h


def entry_verify(e, pk):
    return ed_verify(pk, ENTRY_CTX + e["header"], e["sig"])


def entry_follows(prev, e):
    return (e["feed"] == prev["feed"] and e["seq"] == prev["seq"] + 1
            and e["prev"] == prev["id"] and e["ts_ms"] >= prev["ts_ms"])


def fork_verify(pb, pk):
    r = Reader(pb)
    expect_array(r, 3)
    version = r.value(1)
    if not _is_uint(version):
        raise Err("EFORMAT", "version not a uint")
    if version != 1:
        raise Err("EVERSION")
    a = r.value(1)
    b = r.value(1)
    if not (isinstance(a, bytes) and isinstance(b, bytes)):
        raise Err("EFORMAT", "entries must be bin")
    r.end()
    ea, eb = decode_entry(a), decode_entry(b)
    if ea["feed"] != eb["feed"] or ea["seq"] != eb["seq"]:
        raise Err("EFORMAT", "different feed or seq")
    if not ea["id"] < eb["id"]:
        raise Err("EFORMAT", "ids not in order")
    if not (entry_verify(ea, pk) and entry_verify(eb, pk)):
        raise Err("EBADSIG")
    return "OK"


# --------------------------------------------------------------------------
# Charters (PROTOCOL.md §3)
# --------------------------------------------------------------------------

CHARTER_KEYS = {"domains", "members", "mesh", "params", "policies", "threshold", "version"}


def _charter_map(cb):
    c = decode(cb)

    def need(cond, why):
        if not cond:
            raise Err("ECHARTER", why)

    need(isinstance(c, dict), "charter is not a map")
    need(set(c) - {"compromised"} == CHARTER_KEYS, "keys %s" % sorted(c))

    def unique(xs):
        return len(set(xs)) == len(xs)

    def name_ok(n):
        return isinstance(n, str) and NAME_RE.fullmatch(n) is not None

    need(name_ok(c["mesh"]), "mesh name")
    need(_is_uint(c["version"]) and c["version"] >= 1, "version")
    ms = c["members"]
    need(isinstance(ms, list) and 1 <= len(ms) <= 255, "members")
    for m in ms:
        need(isinstance(m, dict) and set(m) == {"key", "name"}, "member map")
        need(isinstance(m["key"], bytes) and len(m["key"]) == 32, "member key")
        need(name_ok(m["name"]), "member name")
    need(unique([m["name"] for m in ms]) and unique([m["key"] for m in ms]), "member unique")
    ds = c["domains"]
    need(isinstance(ds, list), "domains")
    for d in ds:
        need(isinstance(d, dict) and set(d) == {"feed", "name"}, "domain map")
        need(isinstance(d["feed"], bytes) and len(d["feed"]) == 32, "domain feed")
        need(name_ok(d["name"]), "domain name")
    need(unique([d["name"] for d in ds]) and unique([d["feed"] for d in ds]), "domain unique")
    need(isinstance(c["params"], dict), "params")
    comp = c["params"].get("compatibility")  # §3.1: a contract compatibility mode, if given
    need(comp is None or (isinstance(comp, str) and comp.isascii() and comp.upper() in (
        "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL",
        "FULL_TRANSITIVE", "NONE")), "params.compatibility")
    ps = c["policies"]
    need(isinstance(ps, list), "policies")
    for p in ps:
        need(isinstance(p, dict) and set(p) == {"expr", "id", "message", "severity"}, "policy map")
        need(all(isinstance(p[k], str) for k in p), "policy strings")
        need(p["severity"] in ("deny", "warn"), "severity")
    need(unique([p["id"] for p in ps]), "policy ids")
    need(_is_uint(c["threshold"]) and 1 <= c["threshold"] <= len(ms), "threshold")
    # optional (PROTOCOL.md §3.1): absent when empty; feeds unique, not bound, successor bound
    if "compromised" in c:
        cs = c["compromised"]
        need(isinstance(cs, list) and len(cs) >= 1, "compromised: a non-empty array")
        bound = {d["feed"] for d in ds}
        for x in cs:
            need(isinstance(x, dict) and set(x) == {"feed", "seq", "successor"}, "compromised map")
            need(isinstance(x["feed"], bytes) and len(x["feed"]) == 32, "compromised feed")
            need(isinstance(x["successor"], bytes) and len(x["successor"]) == 32, "successor")
            need(_is_uint(x["seq"]), "compromised seq")
            need(x["feed"] not in bound, "compromised feed still bound")
            need(x["successor"] in bound, "successor not a domain's feed")
        need(unique([x["feed"] for x in cs]), "compromised feeds unique")
    return c


def decode_charter_file(fb):
    if len(fb) > 1 << 20:
        raise Err("ETOOBIG")
    r = Reader(fb)
    expect_array(r, 2, bad="EFORMAT")
    cb = r.value(1)
    if not isinstance(cb, bytes):
        raise Err("EFORMAT", "charter not bin")
    sigs = r.value(1)
    if not isinstance(sigs, list):
        raise Err("EFORMAT", "signatures not an array")
    for s in sigs:
        if not isinstance(s, list):
            raise Err("EFORMAT", "signature not an array")
        if len(s) != 2:
            raise Err("EFORMAT", "signature not a pair")
        if not (isinstance(s[0], bytes) and len(s[0]) == 32 and isinstance(s[1], bytes) and len(s[1]) == 64):
            raise Err("EFORMAT", "signature key/sig")
    keys = [s[0] for s in sigs]
    if any(keys[i] >= keys[i + 1] for i in range(len(keys) - 1)):
        raise Err("ECHARTER", "signatures unsorted or duplicated")
    r.end()
    return dict(bytes=cb, map=_charter_map(cb), sigs=[(k, s) for k, s in sigs])


def _valid_signers(ch, allowed):
    """Keys whose signature verifies; refuses a signature that fails or is by a non-member."""
    out = set()
    for k, s in ch["sigs"]:
        if k not in allowed:
            raise Err("ECHARTER", "signature by a non-member")
        if not ed_verify(k, CHARTER_CTX + ch["bytes"], s):
            raise Err("EBADSIG")
        out.add(k)
    return out


def charter_verify_genesis(ch):
    c = ch["map"]
    if c["version"] != 1:
        raise Err("ECHARTER", "genesis must be version 1")
    if "compromised" in c:
        raise Err("ECHARTER", "a genesis declares no compromised feed")
    keys = {m["key"] for m in c["members"]}
    if len(_valid_signers(ch, keys)) < c["threshold"]:
        raise Err("ECHARTER", "below threshold")
    return blake(ch["bytes"])


def charter_verify_next(old, new):
    o, n = old["map"], new["map"]
    if n["mesh"] != o["mesh"] or n["version"] != o["version"] + 1:
        raise Err("ECHARTER", "mesh or version step")
    # compromised feeds (PROTOCOL.md §3.3): cuts never move, only a bound feed is newly
    # compromised, a compromised feed is never bound again
    ocut = {x["feed"]: x["seq"] for x in o.get("compromised", [])}
    for x in n.get("compromised", []):
        if x["feed"] in ocut and ocut[x["feed"]] != x["seq"]:
            raise Err("ECHARTER", "a cut moved")
        if x["feed"] not in ocut and x["feed"] not in {d["feed"] for d in o["domains"]}:
            raise Err("ECHARTER", "compromised feed not bound in the version before")
    if any(d["feed"] in ocut for d in n["domains"]):
        raise Err("ECHARTER", "a compromised feed bound again")
    ok, nk = {m["key"] for m in o["members"]}, {m["key"] for m in n["members"]}
    signed = _valid_signers(new, ok | nk)
    if len(signed & ok) < o["threshold"] or len(signed & nk) < n["threshold"]:
        raise Err("ECHARTER", "below threshold")


# --------------------------------------------------------------------------
# Vector runners
# --------------------------------------------------------------------------

RESULTS = []  # (group, passed, failed)


class Group:
    def __init__(self, name):
        self.name, self.ok, self.bad, self.notes = name, 0, 0, []

    def check(self, cond, label):
        if cond:
            self.ok += 1
            if VERBOSE:
                print("  ok   %s: %s" % (self.name, label))
        else:
            self.bad += 1
            print("  FAIL %s: %s" % (self.name, label))
        return cond

    def done(self):
        print("%s: %d passed, %d failed" % (self.name, self.ok, self.bad))
        RESULTS.append((self.name, self.ok, self.bad))


def vfile(name):
    return os.path.join(VDIR, name)


def lines_of(name):
    with open(vfile(name), encoding="utf-8") as f:
        return [ln.rstrip("\n") for ln in f]


def blocks_of(name):
    """Blank-line-separated blocks of `key value` lines (comments dropped), plus the
    one-line `invalid`/`fork` records."""
    blocks, cur, records = [], [], []
    for ln in lines_of(name) + [""]:
        if ln.startswith("#"):
            continue
        if not ln.strip():
            if cur:
                blocks.append(cur)
            cur = []
            continue
        parts = ln.split(" ")
        if parts[0] in ("invalid", "fork"):
            records.append((parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else ""))
            continue
        cur.append((parts[0], parts[1:]))
    return blocks, records


def run_codec_valid():
    g = Group("codec-valid")
    for ln in lines_of("codec-valid.txt"):
        if not ln or ln.startswith("#"):
            continue
        name, hx, rendering = ln.split(" ", 2)
        b = bytes.fromhex(hx)
        try:
            v = decode(b)
        except Err as e:
            g.check(False, "%s: decode refused (%s)" % (name, e))
            continue
        g.check(encode(v) == b, "%s: re-encode" % name)
        got = render(v)
        g.check(got == rendering, "%s: rendering %r != %r" % (name, got, rendering))
    g.done()


def run_codec_invalid():
    g = Group("codec-invalid")
    for ln in lines_of("codec-invalid.txt"):
        if not ln or ln.startswith("#"):
            continue
        name, want, hx = ln.split(" ")
        try:
            v = decode(bytes.fromhex(hx))
            g.check(False, "%s: accepted as %s" % (name, render(v)))
        except Err as e:
            g.check(e.code == want, "%s: refused as %s, vector says %s" % (name, e, want))
    g.done()


def run_codec_selfcheck():
    """Properties the document states that the vector files do not exercise directly."""
    g = Group("codec-doc")
    for v, hx in ((128, "cc80"), (-33, "d0df"), (1.5, "cb3ff8000000000000"), ("a", "a161"),
                  ({"b": 1, "a": 2}, "82a16102a16201")):
        g.check(encode(v).hex() == hx, "§1 example %r" % (v,))
    # 32-bit length forms (the vector file leaves them to the C tests)
    for v in ("x" * 65536, b"\x00" * 65536, [0] * 65536, {"%05d" % i: 0 for i in range(65536)}):
        b = encode(v)
        g.check(b[0] in (0xdb, 0xc6, 0xdd, 0xdf) and decode(b) == v, "32-bit form %02x" % b[0])
    for name, hx in (("int8 5 (§1 'd0 05')", "d005"),):
        try:
            decode(bytes.fromhex(hx))
            g.check(False, name + " accepted")
        except Err as e:
            g.check(True, name + " " + e.code)
    g.done()


def run_entries():
    g = Group("entry")
    path = vfile("entry.txt")
    if not os.path.exists(path):
        g.check(False, "entry.txt missing")
        g.done()
        return
    blocks, records = blocks_of("entry.txt")
    by_name = {}
    genesis_pk = None
    for blk in blocks:
        f = {k: v for k, v in blk}
        name = f["name"][0]
        seed = bytes.fromhex(f["seed"][0])
        pk = ed_public(seed)
        g.check(pk.hex() == f["pk"][0], "%s: pk from seed" % name)
        if seed == bytes(range(32)):
            genesis_pk = pk
        feed = bytes.fromhex(f["feed"][0])
        body = bytes.fromhex(f["body"][0])
        try:
            g.check(encode(decode(body)) == body, "%s: body is canonical" % name)
        except Err as e:
            g.check(False, "%s: body refused (%s)" % (name, e))
        bh = blake(body)
        g.check(bh.hex() == f["body_hash"][0], "%s: body_hash" % name)
        prev = None if f["prev"][0] == "nil" else bytes.fromhex(f["prev"][0])
        header = encode_header(feed, int(f["seq"][0]), prev, int(f["ts_ms"][0]), f["kind"][0], bh)
        g.check(header.hex() == f["header"][0], "%s: header bytes" % name)
        g.check(len(header) <= 156, "%s: header <= 156 bytes" % name)
        eid = blake(ID_CTX + header)
        g.check(eid.hex() == f["id"][0], "%s: id" % name)
        sig = ed_sign(seed, ENTRY_CTX + header)
        g.check(sig.hex() == f["sig"][0], "%s: sig" % name)
        entry = encode([header, sig])
        g.check(entry.hex() == f["entry"][0], "%s: entry bytes" % name)
        g.check(len(entry) <= 225, "%s: entry <= 225 bytes" % name)
        try:
            e = decode_entry(bytes.fromhex(f["entry"][0]))
        except Err as ex:
            g.check(False, "%s: entry refused (%s)" % (name, ex))
            continue
        g.check((e["feed"], e["seq"], e["prev"], e["ts_ms"], e["kind"], e["body_hash"], e["id"]) ==
                (feed, int(f["seq"][0]), prev, int(f["ts_ms"][0]), f["kind"][0], bh, eid),
                "%s: decoded fields" % name)
        g.check(entry_verify(e, pk), "%s: signature verifies under pk" % name)
        if feed != pk:
            # a rotated key: the signature is by pk, not by the key that names the feed
            g.check(not entry_verify(e, feed), "%s: signature does not verify under feed" % name)
        bad = bytearray(e["sig"])
        bad[0] ^= 1
        g.check(not ed_verify(pk, ENTRY_CTX + e["header"], bytes(bad)), "%s: flipped sig refused" % name)
        for fol in f.get("follows", []):
            g.check(fol in by_name and entry_follows(by_name[fol], e), "%s: follows %s" % (name, fol))
        by_name[name] = e
    if genesis_pk is None:
        genesis_pk = ed_public(bytes(range(32)))
    for rec, name, want, hx in records:
        try:
            if rec == "invalid":
                e = decode_entry(bytes.fromhex(hx))
                got = "OK"
            else:
                got = fork_verify(bytes.fromhex(hx), genesis_pk)
        except Err as ex:
            got, e = ex.code, ex
        label = "%s %s: got %s, vector says %s" % (rec, name, got if got == "OK" else e, want)
        if want != "OK" and got == "OK":
            g.check(False, label + " (ACCEPTED)")
        else:
            g.check(got == want, label)
    g.done()


def run_charters():
    g = Group("charter")
    if not os.path.exists(vfile("charter.txt")):
        g.check(False, "charter.txt missing")
        g.done()
        return
    blocks, records = blocks_of("charter.txt")
    seen, seen_fields = {}, {}
    for blk in blocks:
        f, members, domains, signers, comps = {}, [], [], [], []
        for k, v in blk:
            if k == "member":
                members.append(v)
            elif k == "domain":
                domains.append(v)
            elif k == "compromised":
                comps.append(v)
            elif k == "signer":
                signers.append(v[0])
            else:
                f.setdefault(k, []).append(v)
        name = f["name"][0][0]
        fb = bytes.fromhex(f["file"][0][0])
        try:
            ch = decode_charter_file(fb)
        except Err as ex:
            g.check(False, "%s: file refused (%s)" % (name, ex))
            continue
        g.check(ch["bytes"].hex() == f["charter"][0][0], "%s: charter bytes in file" % name)
        g.check(encode(ch["map"]) == ch["bytes"], "%s: charter re-encodes" % name)
        g.check(encode([ch["bytes"], [list(s) for s in ch["sigs"]]]) == fb, "%s: file re-encodes" % name)
        digest = blake(ch["bytes"])
        g.check(digest.hex() == f["digest"][0][0], "%s: digest" % name)
        if members:  # fields given: rebuild the charter map from them
            mem = []
            for mname, mseed, mpk in members:
                k = ed_public(bytes.fromhex(mseed))
                g.check(k.hex() == mpk, "%s: member %s pk from seed" % (name, mname))
                mem.append({"key": k, "name": mname})
            dom = []
            for dname, dseed, dfeed in domains:
                k = ed_public(bytes.fromhex(dseed))
                g.check(k.hex() == dfeed, "%s: domain %s feed from seed" % (name, dname))
                dom.append({"feed": k, "name": dname})
            cmap = {"domains": dom, "members": mem, "mesh": f["mesh"][0][0], "params": {},
                    "policies": [], "threshold": int(f["threshold"][0][0]),
                    "version": int(f["version"][0][0])}
            if comps:
                cl = []
                for cseed, cfeed, cseq, csucc in comps:
                    k = ed_public(bytes.fromhex(cseed))
                    g.check(k.hex() == cfeed, "%s: compromised feed from seed" % name)
                    cl.append({"feed": k, "seq": int(cseq), "successor": bytes.fromhex(csucc)})
                cmap["compromised"] = cl
            g.check(encode(cmap) == ch["bytes"], "%s: charter rebuilt from fields" % name)
            seeds = {m[0]: bytes.fromhex(m[1]) for m in members}
            want = sorted((ed_public(seeds[s]), ed_sign(seeds[s], CHARTER_CTX + ch["bytes"])) for s in signers)
            g.check(want == ch["sigs"], "%s: signatures recomputed from signer seeds" % name)
            seen_fields[name] = (seeds, signers)
        elif "genesis" in seen_fields:  # "members, domains and signers as in genesis"
            seeds, signers = seen_fields["genesis"]
            want = sorted((ed_public(seeds[s]), ed_sign(seeds[s], CHARTER_CTX + ch["bytes"])) for s in signers)
            g.check(want == ch["sigs"], "%s: signatures recomputed from genesis signer seeds" % name)
        c = ch["map"]
        if c["version"] == 1:
            try:
                mesh_id = charter_verify_genesis(ch)
                g.check(mesh_id == digest, "%s: genesis verifies, mesh id = digest" % name)
            except Err as ex:
                g.check(False, "%s: genesis verify (%s)" % (name, ex))
        for fol in f.get("follows", []):
            try:
                charter_verify_next(seen[fol[0]], ch)
                g.check(True, "%s: follows %s" % (name, fol[0]))
            except (Err, KeyError) as ex:
                g.check(False, "%s: follows %s (%r)" % (name, fol[0], ex))
                continue
            old = seen[fol[0]]
            newk = {m["key"] for m in c["members"]} - {m["key"] for m in old["map"]["members"]}
            short = dict(ch, sigs=[s for s in ch["sigs"] if s[0] not in newk])
            if len(short["sigs"]) < c["threshold"]:
                g.check(_refuses(charter_verify_next, old, short),
                        "%s: without the new members' signatures, below threshold(n+1), refused" % name)
            g.check(_refuses(charter_verify_next, ch, ch), "%s: does not follow itself" % name)
        # derived refusals: below threshold, a broken signature, a non-member signature
        if c["version"] == 1 and ch["sigs"]:
            cut = dict(ch, sigs=ch["sigs"][:c["threshold"] - 1])
            g.check(_refuses(charter_verify_genesis, cut), "%s: threshold-1 signatures refused" % name)
            k0, s0 = ch["sigs"][0]
            flip = dict(ch, sigs=[(k0, bytes([s0[0] ^ 1]) + s0[1:])] + ch["sigs"][1:])
            g.check(_refuses(charter_verify_genesis, flip), "%s: broken signature refused" % name)
            out = bytes([7] * 32)
            extra = dict(ch, sigs=sorted(ch["sigs"] + [(ed_public(out), ed_sign(out, CHARTER_CTX + ch["bytes"]))]))
            g.check(_refuses(charter_verify_genesis, extra), "%s: non-member signature refused" % name)
        seen[name] = ch
    for rec, name, want, hx in records:
        try:
            decode_charter_file(bytes.fromhex(hx))
            g.check(False, "invalid %s: ACCEPTED, vector says %s" % (name, want))
        except Err as ex:
            g.check(ex.code == want, "invalid %s: got %s, vector says %s" % (name, ex, want))
    g.done()


# --------------------------------------------------------------------------
# Gossip frontier digests (PROTOCOL.md §10)
# --------------------------------------------------------------------------


def frontier_digest(heads):
    """BLAKE2b-256 of "mycel/frontier/v1\0" then, per head in feed order,
    feed(32) || seq(8, big endian) || head(32) || forked(1)."""
    rec = b"mycel/frontier/v1\0"
    for feed, seq, head, forked in sorted(heads):
        rec += feed + struct.pack(">Q", seq) + head + bytes([1 if forked else 0])
    return blake(rec)


def run_frontier():
    g = Group("frontier")
    fronts = {}
    for ln in lines_of("frontier.txt"):
        if not ln or ln.startswith("#"):
            continue
        parts = ln.split(" ")
        if parts[0] == "frontier":
            heads = []
            for h in parts[3:]:
                f, seq, hd, fk = h.split(",")
                heads.append((bytes.fromhex(f), int(seq), bytes.fromhex(hd), fk == "1"))
            fronts[parts[1]] = heads
            g.check(frontier_digest(heads).hex() == parts[2], "digest of " + parts[1])
        elif parts[0] == "bucket":
            heads = [h for h in fronts[parts[1]] if h[0][0] == int(parts[2])]
            want = frontier_digest(heads) if heads else bytes(32)
            g.check(want.hex() == parts[3], "bucket %s of %s" % (parts[2], parts[1]))
        else:
            g.check(False, "unknown record " + parts[0])
    g.done()


def _refuses(fn, *a):
    try:
        fn(*a)
        return False
    except Err:
        return True


KEY_CTX = b"mycel/key/v1\x00"


def key_msg(feed, seq, nxt):
    return KEY_CTX + feed + seq.to_bytes(8, "big") + nxt


def key_body_check(feed, seq, body):
    """PROTOCOL.md §5.4: the body of a key entry at (feed, seq); returns the next key."""
    v = decode(body)
    if not (isinstance(v, dict) and sorted(v) == ["next", "sig"]
            and isinstance(v["next"], bytes) and len(v["next"]) == 32
            and isinstance(v["sig"], bytes) and len(v["sig"]) == 64):
        raise Err("EFORMAT", "not {next: bin 32, sig: bin 64}")
    if not ed_verify(v["next"], key_msg(feed, seq, v["next"]), v["sig"]):
        raise Err("EBADSIG", "reverse signature")
    return v["next"]


def run_keys():
    g = Group("key")
    if not os.path.exists(vfile("key.txt")):
        g.check(False, "key.txt missing")
        g.done()
        return
    blocks, records = blocks_of("key.txt")
    head = {k: v[0] for k, v in blocks[0]}
    feed_seed, next_seed = bytes.fromhex(head["feed_seed"]), bytes.fromhex(head["next_seed"])
    feed, nxt, seq = ed_public(feed_seed), ed_public(next_seed), int(head["seq"])
    g.check(feed.hex() == head["feed"] and nxt.hex() == head["next"], "feed and next from seeds")
    msg = key_msg(feed, seq, nxt)
    g.check(msg.hex() == head["msg"], "msg = ctx || feed || seq (8, BE) || next")
    sig = ed_sign(next_seed, msg)
    g.check(sig.hex() == head["sig"], "reverse signature by next")
    body = encode({"next": nxt, "sig": sig})
    g.check(body.hex() == head["key_body"], "key body = {next, sig}")
    g.check(key_body_check(feed, seq, body) == nxt, "key body checks")
    # the feed's entries, each signed by the key that signs its seq
    key, prev = feed, None
    for blk in blocks[1:]:
        f = {k: v[0] for k, v in blk}
        name = f["entry_name"]
        e = decode_entry(bytes.fromhex(f["entry"]))
        b = bytes.fromhex(f["body"])
        g.check(e["feed"] == feed and blake(b) == e["body_hash"], "%s: feed and body hash" % name)
        g.check(f["signer"] == key.hex(), "%s: signer is the key of seq %d" % (name, e["seq"]))
        g.check(entry_verify(e, key), "%s: signature under the key of its seq" % name)
        if key != feed:
            g.check(not entry_verify(e, feed), "%s: not valid under the retired key" % name)
        g.check(prev is None or entry_follows(prev, e), "%s: follows" % name)
        if e["kind"] == "key":
            key = key_body_check(feed, e["seq"], b)
        prev = e
    g.check(key == nxt, "after the key entry the next key signs")
    for rec, name, want, hx in records:
        try:
            key_body_check(feed, seq, bytes.fromhex(hx))
            got = "OK"
        except Err as ex:
            got = ex.code
        g.check(got == want, "invalid %s: got %s, vector says %s" % (name, got, want))
    g.done()


def main():
    run_codec_valid()
    run_codec_invalid()
    run_codec_selfcheck()
    run_entries()
    run_keys()
    run_charters()
    run_frontier()
    ok = sum(r[1] for r in RESULTS)
    bad = sum(r[2] for r in RESULTS)
    print("%d passed, %d failed" % (ok, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
