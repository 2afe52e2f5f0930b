#!/usr/bin/env python3
"""gen.py — turns proto/mycel.idl into mycel_proto.h and mycel_proto.c.

Usage: gen.py IDL OUT.h OUT.c

Python 3 standard library only. Errors are reported as `file:line: message`
and exit with status 1; nothing is written then.

Wire form (proto/PROTOCOL.md, "RPC messages"): a message is a canonical
MessagePack array whose element i holds field number i+1 (nil when absent),
trailing nils trimmed. Decoders skip elements they do not know.
"""
import os
import re
import sys

SCALARS = ("bool", "uint64", "int64", "double")
BUILTINS = SCALARS + ("string", "bytes")
DEFAULT_MAX = {"string": 65536, "bytes": 8388608, "repeated": 10000}
MAX_FIELD_NUMBER = 64
MAX_BOUND = 1 << 32  # a bound must fit a MessagePack length (uint32)

C_KEYWORDS = set("""auto break case char const continue default do double else enum extern
float for goto if inline int long register restrict return short signed sizeof static struct
switch typedef union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex
_Generic _Imaginary _Noreturn _Static_assert _Thread_local bool true false NULL""".split())

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class IdlError(Exception):
    pass


class Field:
    def __init__(self, name, type_, number, repeated, maxv, line):
        self.name, self.type, self.number = name, type_, number
        self.repeated, self.max, self.line = repeated, maxv, line


class Message:
    def __init__(self, name, line):
        self.name, self.line, self.fields = name, line, []


class Rpc:
    def __init__(self, name, req, rep, line):
        self.name, self.req, self.rep, self.line = name, req, rep, line


class Service:
    def __init__(self, name, line):
        self.name, self.line, self.rpcs = name, line, []


# ---- lexer ------------------------------------------------------------------

TOKEN = re.compile(r"\s*(?:(//[^\n]*)|([A-Za-z_][A-Za-z0-9_.]*)|(\d+)|([{}()\[\];=,])|(\S))")


def lex(path, text):
    toks = []
    for lineno, line in enumerate(text.split("\n"), 1):
        pos = 0
        while pos < len(line):
            m = TOKEN.match(line, pos)
            if not m or m.end() == pos:
                break
            pos = m.end()
            comment, ident, num, punct, bad = m.groups()
            if comment is not None:
                break
            if bad is not None:
                raise IdlError("%s:%d: unexpected character %r" % (path, lineno, bad))
            if ident is not None:
                toks.append(("id", ident, lineno))
            elif num is not None:
                toks.append(("num", num, lineno))
            elif punct is not None:
                toks.append(("p", punct, lineno))
    return toks


# ---- parser -----------------------------------------------------------------

class Parser:
    def __init__(self, path, text):
        self.path = path
        self.toks = lex(path, text)
        self.i = 0
        self.package = None
        self.messages = []
        self.services = []

    def err(self, line, msg):
        raise IdlError("%s:%d: %s" % (self.path, line, msg))

    def peek(self):
        if self.i < len(self.toks):
            return self.toks[self.i]
        last = self.toks[-1][2] if self.toks else 1
        return ("eof", "end of file", last)

    def next(self):
        t = self.peek()
        if t[0] != "eof":
            self.i += 1
        return t

    def expect(self, kind, value=None, what=None):
        t = self.next()
        if t[0] != kind or (value is not None and t[1] != value):
            want = what or (repr(value) if value is not None else kind)
            self.err(t[2], "expected %s, found %r" % (want, t[1]))
        return t

    def ident(self, what):
        t = self.expect("id", what=what)
        if not IDENT.match(t[1]):
            self.err(t[2], "%s %r is not a plain identifier" % (what, t[1]))
        return t

    def parse(self):
        while self.peek()[0] != "eof":
            t = self.next()
            if t[0] == "id" and t[1] == "package":
                if self.package is not None:
                    self.err(t[2], "package declared twice")
                name = self.expect("id", what="package name")
                if not re.match(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\Z", name[1]):
                    self.err(name[2], "bad package name %r" % name[1])
                self.expect("p", ";")
                self.package = name[1]
            elif t[0] == "id" and t[1] == "message":
                self.message(t[2])
            elif t[0] == "id" and t[1] == "service":
                self.service(t[2])
            else:
                self.err(t[2], "expected 'package', 'message' or 'service', found %r" % t[1])
        if self.package is None:
            self.err(1, "missing 'package NAME;'")
        self.check()

    def message(self, line):
        name = self.ident("message name")
        if not re.match(r"[A-Z][A-Za-z0-9]*\Z", name[1]):
            self.err(name[2], "message name %r must be CamelCase letters and digits" % name[1])
        m = Message(name[1], name[2])
        self.expect("p", "{")
        while True:
            t = self.peek()
            if t[0] == "p" and t[1] == "}":
                self.next()
                break
            if t[0] == "eof":
                self.err(t[2], "message %s is not closed with '}'" % m.name)
            if t[0] == "id" and t[1] in ("message", "service", "package", "rpc"):
                self.err(t[2], "expected a field or '}' closing message %s (line %d), found %r"
                         % (m.name, m.line, t[1]))
            m.fields.append(self.field())
        self.messages.append(m)

    def field(self):
        t = self.ident("field type")
        repeated = False
        if t[1] == "repeated":
            repeated = True
            t = self.ident("field type")
        if t[1] in ("optional", "required", "map", "oneof", "enum", "float", "int32",
                    "uint32", "sint64", "fixed64"):
            self.err(t[2], "%r is not supported (types: %s or a message)"
                     % (t[1], ", ".join(BUILTINS)))
        type_ = t[1]
        name = self.ident("field name")
        if not re.match(r"[a-z][a-z0-9_]*\Z", name[1]):
            self.err(name[2], "field name %r must be lower_snake_case" % name[1])
        if name[1] in C_KEYWORDS:
            self.err(name[2], "field name %r is a C keyword" % name[1])
        self.expect("p", "=")
        num = self.expect("num", what="field number")
        number = int(num[1])
        if not 1 <= number <= MAX_FIELD_NUMBER:
            self.err(num[2], "field number %d out of range 1..%d" % (number, MAX_FIELD_NUMBER))
        maxv = None
        if self.peek()[0] == "p" and self.peek()[1] == "[":
            self.next()
            opt = self.ident("option name")
            if opt[1] != "max":
                self.err(opt[2], "unknown field option %r (only 'max')" % opt[1])
            self.expect("p", "=")
            v = self.expect("num", what="a bound")
            maxv = int(v[1])
            if not 0 < maxv <= MAX_BOUND - 1:
                self.err(v[2], "bound %d out of range 1..%d" % (maxv, MAX_BOUND - 1))
            self.expect("p", "]")
            if not repeated and type_ not in ("string", "bytes"):
                self.err(opt[2], "[max] applies to string, bytes and repeated fields only")
        self.expect("p", ";")
        return Field(name[1], type_, number, repeated, maxv, name[2])

    def service(self, line):
        name = self.ident("service name")
        if not re.match(r"[A-Z][A-Za-z0-9]*\Z", name[1]):
            self.err(name[2], "service name %r must be CamelCase" % name[1])
        s = Service(name[1], name[2])
        self.expect("p", "{")
        while True:
            t = self.next()
            if t[0] == "p" and t[1] == "}":
                break
            if t[0] == "eof":
                self.err(t[2], "service %s is not closed with '}'" % s.name)
            if t[0] != "id" or t[1] != "rpc":
                self.err(t[2], "expected 'rpc' or '}', found %r" % t[1])
            mname = self.ident("method name")
            if not re.match(r"[A-Z][A-Za-z0-9]*\Z", mname[1]):
                self.err(mname[2], "method name %r must be CamelCase" % mname[1])
            self.expect("p", "(")
            req = self.ident("request type")
            self.expect("p", ")")
            self.expect("id", "returns")
            self.expect("p", "(")
            rep = self.ident("reply type")
            self.expect("p", ")")
            self.expect("p", ";")
            s.rpcs.append(Rpc(mname[1], req, rep, mname[2]))
        self.services.append(s)

    def check(self):
        names = {}
        for m in self.messages:
            if m.name in names:
                self.err(m.line, "message %s already defined at line %d" % (m.name, names[m.name].line))
            names[m.name] = m
        for m in self.messages:
            seen_num, seen_c = {}, {}
            for f in m.fields:
                if f.number in seen_num:
                    self.err(f.line, "field number %d of %s already used by %r"
                             % (f.number, m.name, seen_num[f.number].name))
                seen_num[f.number] = f
                if f.type not in BUILTINS and f.type not in names:
                    self.err(f.line, "unknown type %r (types: %s or a message)"
                             % (f.type, ", ".join(BUILTINS)))
                if f.max is None:
                    if f.repeated:
                        f.max = DEFAULT_MAX["repeated"]
                    elif f.type in ("string", "bytes"):
                        f.max = DEFAULT_MAX[f.type]
                for cname in c_member_names(f):
                    if cname in seen_c:
                        self.err(f.line, "field %r of %s collides in C with field %r (member %s)"
                                 % (f.name, m.name, seen_c[cname].name, cname))
                    seen_c[cname] = f
        snames = set()
        for s in self.services:
            if s.name in snames:
                self.err(s.line, "service %s already defined" % s.name)
            snames.add(s.name)
            mnames = set()
            for r in s.rpcs:
                if r.name in mnames:
                    self.err(r.line, "method %s.%s defined twice" % (s.name, r.name))
                mnames.add(r.name)
                for t in (r.req, r.rep):
                    if t[1] not in names:
                        self.err(t[2], "unknown message %r" % t[1])
                r.req, r.rep = names[r.req[1]], names[r.rep[1]]
        if not self.services:
            self.err(1, "no service defined")


def c_member_names(f):
    if f.repeated:
        return [f.name, "n_" + f.name]
    if f.type in SCALARS:
        return [f.name, "has_" + f.name]
    if f.type in ("string", "bytes"):
        return [f.name, f.name + "_len"]
    return [f.name]


# ---- C generation -----------------------------------------------------------

CTYPE = {"bool": "bool", "uint64": "uint64_t", "int64": "int64_t", "double": "double"}
FTYPE = {"bool": "MYCEL_F_BOOL", "uint64": "MYCEL_F_UINT64", "int64": "MYCEL_F_INT64",
         "double": "MYCEL_F_DOUBLE", "string": "MYCEL_F_STRING", "bytes": "MYCEL_F_BYTES"}


def ctype_of(m):
    return "mycel_msg_" + m


def member_decl(f):
    t = f.type
    if f.repeated:
        if t in SCALARS:
            el = "const " + CTYPE[t]
        elif t == "string":
            el = "const mycel_str"
        elif t == "bytes":
            el = "const mycel_bytes"
        else:
            el = "const " + ctype_of(t)
        return ["%s *%s;" % (el, f.name), "size_t n_%s;" % f.name]
    if t in SCALARS:
        return ["bool has_%s;" % f.name, "%s %s;" % (CTYPE[t], f.name)]
    if t == "string":
        return ["const char *%s; /* NUL-terminated after decode; NULL: absent */" % f.name,
                "size_t %s_len;" % f.name]
    if t == "bytes":
        return ["const uint8_t *%s; /* NULL: absent */" % f.name, "size_t %s_len;" % f.name]
    return ["const %s *%s; /* NULL: absent */" % (ctype_of(t), f.name)]


HEADER_TOP = """/*
 * mycel_proto.h — GENERATED by proto/gen.py from %(idl)s. Do not edit.
 *
 * RPC messages of package %(package)s (DESIGN.md section 5). A message is a
 * canonical MessagePack array; element i holds field number i+1, nil when
 * absent, trailing nils trimmed; decoders ignore elements they do not know.
 *
 * Structs: a scalar field has a has_ flag; a string is const char * + _len
 * (NULL: absent; decoded strings are NUL-terminated copies in the arena); bytes
 * are const uint8_t * + _len (NULL: absent; copied into the arena); a message
 * field is a pointer (NULL: absent); a repeated field is a pointer + n_ count
 * (0: absent; the encoder writes nil for an empty list).
 *
 * mycel_msg_X_encode appends the canonical encoding of one message to b and
 * returns 0 or a MYCEL_E... code (also left in b->err when it came from b):
 * ETOOBIG for a value over its [max] bound, EINVAL for a NULL pointer with a
 * non-zero length or count, EUTF8, EFLOAT, EDEPTH, ENOMEM.
 *
 * mycel_msg_X_decode decodes exactly one message occupying all n bytes of p,
 * allocating strings, bytes and lists in a. It zeroes *out first, and returns
 * 0 or: ETYPE (a field of the wrong type, or the message not an array),
 * ETOOBIG (a string, bytes or list over its bound; checked before anything is
 * allocated), ETRUNC, ETRAILING, ENONCANON, EUTF8, EFLOAT, EUNSUPPORTED,
 * EDEPTH, ENOMEM (arena limit). On failure it writes a one-line reason to why
 * (if why_len > 0) naming the message, the field and the byte offset, and *out
 * may hold partial data.
 */
#ifndef MYCEL_PROTO_H
#define MYCEL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/codec.h"

#define MYCEL_PROTO_PACKAGE "%(package)s"

typedef struct mycel_str {
	const char *ptr;
	size_t len;
} mycel_str;

typedef struct mycel_bytes {
	const uint8_t *ptr;
	size_t len;
} mycel_bytes;

/* ---- reflection ---------------------------------------------------------- */

typedef enum mycel_field_type {
	MYCEL_F_BOOL,
	MYCEL_F_UINT64,
	MYCEL_F_INT64,
	MYCEL_F_DOUBLE,
	MYCEL_F_STRING,
	MYCEL_F_BYTES,
	MYCEL_F_MESSAGE,
} mycel_field_type;

struct mycel_msg_desc;

typedef int (*mycel_msg_encode_fn)(const void *msg, mycel_buf *b);
typedef int (*mycel_msg_decode_fn)(const uint8_t *p, size_t n, mycel_arena *a, void *out,
				   char *why, size_t why_len);

typedef struct mycel_field_desc {
	const char *name;
	uint32_t number;         /* 1-based; the wire array index is number - 1 */
	mycel_field_type type;
	bool repeated;
	uint64_t max;            /* string/bytes: bytes; repeated: elements; 0: none */
	const struct mycel_msg_desc *message; /* MYCEL_F_MESSAGE: the element type */
} mycel_field_desc;

typedef struct mycel_msg_desc {
	const char *name;        /* "GetRequest" */
	const char *full_name;   /* "mycel.v1.GetRequest" */
	size_t size;             /* sizeof the C struct */
	mycel_msg_encode_fn encode;
	mycel_msg_decode_fn decode;
	const mycel_field_desc *fields; /* by field number, ascending */
	size_t n_fields;
	uint32_t max_number;     /* highest field number */
} mycel_msg_desc;

extern const mycel_msg_desc mycel_msg_descs[];
extern const size_t mycel_n_msg_descs;

/*
 * The descriptor of message NAME ("GetRequest" or "mycel.v1.GetRequest"), or NULL.
 * It returns &mycel_msg_NAME_desc, the one the method table points to;
 * mycel_msg_descs[] holds copies of them, in IDL order, for iteration.
 */
const mycel_msg_desc *mycel_msg_desc_find(const char *name);

/* ---- messages ------------------------------------------------------------ */
"""

HEADER_BOTTOM = """
/* ---- method table -------------------------------------------------------- */

typedef struct mycel_method {
	const char *name;    /* "mycel.v1.Catalog/Get": the method string of a request */
	const char *service; /* "mycel.v1.Catalog" */
	const char *method;  /* "Get" */
	const mycel_msg_desc *request;
	const mycel_msg_desc *reply;
	mycel_msg_encode_fn request_encode;
	mycel_msg_decode_fn request_decode;
	mycel_msg_encode_fn reply_encode;
	mycel_msg_decode_fn reply_decode;
	bool admin_only;     /* service Admin: served on the ipc socket only */
} mycel_method;

/* Every method of every service, in IDL order; mycel_n_methods entries. */
extern const mycel_method mycel_methods[];
extern const size_t mycel_n_methods;

/* The method named exactly name[0..len) ("mycel.v1.Catalog/Get"), or NULL. */
const mycel_method *mycel_method_find(const char *name, size_t len);

#endif
"""


def gen_header(p, idl_name):
    out = [HEADER_TOP % {"idl": idl_name, "package": p.package}]
    for m in p.messages:
        out.append("typedef struct %s %s;" % (ctype_of(m.name), ctype_of(m.name)))
    out.append("")
    for m in p.messages:
        out.append("/* %s.%s */" % (p.package, m.name))
        out.append("struct %s {" % ctype_of(m.name))
        if not m.fields:
            out.append("\tchar unused_; /* no fields: C needs a member */")
        for f in m.fields:
            rep = "repeated " if f.repeated else ""
            bound = " [max = %d]" % f.max if f.max is not None else ""
            out.append("\t/* %d: %s%s%s */" % (f.number, rep, f.type, bound))
            for d in member_decl(f):
                out.append("\t" + d)
        out.append("};")
        out.append("extern const mycel_msg_desc mycel_msg_%s_desc;" % m.name)
        out.append("int mycel_msg_%s_encode(const %s *m, mycel_buf *b);" % (m.name, ctype_of(m.name)))
        out.append("int mycel_msg_%s_decode(const uint8_t *p, size_t n, mycel_arena *a, %s *out,"
                   % (m.name, ctype_of(m.name)))
        out.append("\t\tchar *why, size_t why_len);")
        out.append("")
    out.append(HEADER_BOTTOM)
    return "\n".join(out)


SOURCE_TOP = """/*
 * mycel_proto.c — GENERATED by proto/gen.py from %(idl)s. Do not edit.
 * See mycel_proto.h for the contract of every function.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mycel_proto.h"

/* Decoding state shared by the nested decoders of one message. */
typedef struct pdec {
	mycel_rd r;
	mycel_arena *a;
	char *why;
	size_t why_len;
} pdec;

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 5, 6)))
#endif
static int fail(pdec *d, int rc, const char *msg, const char *field, const char *fmt, ...)
{
	char detail[160];
	va_list ap;

	if (d->why == NULL || d->why_len == 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (field != NULL)
		snprintf(d->why, d->why_len, "%%s.%%s at byte %%zu: %%s (%%s)", msg, field,
			 mycel_rd_offset(&d->r), detail, mycel_errname(rc));
	else
		snprintf(d->why, d->why_len, "%%s at byte %%zu: %%s (%%s)", msg,
			 mycel_rd_offset(&d->r), detail, mycel_errname(rc));
	return rc;
}

/* Type of the next value, for messages; MYCEL_T_NIL when unreadable. */
static const char *next_type(const pdec *d)
{
	mycel_type t;

	if (mycel_rd_peek(&d->r, &t) != 0)
		return "nothing readable";
	return mycel_type_name(t);
}

/* A read error: the type, truncation or canonical-form problem, explained. */
static int rd_fail(pdec *d, int rc, const char *msg, const char *field, const char *want)
{
	if (rc == MYCEL_ETYPE)
		return fail(d, rc, msg, field, "expected %%s, found %%s", want, next_type(d));
	return fail(d, rc, msg, field, "bad %%s: %%s", want, mycel_strerror(rc));
}

/* True (and consumed) if the next value is nil. */
static bool take_nil(pdec *d)
{
	mycel_type t;

	if (mycel_rd_peek(&d->r, &t) == 0 && t == MYCEL_T_NIL) {
		(void)mycel_rd_nil(&d->r);
		return true;
	}
	return false;
}

static int rd_bool(pdec *d, bool *out, const char *msg, const char *field)
{
	int rc = mycel_rd_bool(&d->r, out);

	return rc ? rd_fail(d, rc, msg, field, "bool") : 0;
}

static int rd_u64(pdec *d, uint64_t *out, const char *msg, const char *field)
{
	int rc = mycel_rd_uint(&d->r, out);

	return rc ? rd_fail(d, rc, msg, field, "uint64") : 0;
}

/*
 * Integers and floats have no typed reader: the value is first checked whole
 * by mycel_rd_skip (canonical form, bounds), then its few bytes are read.
 */
static uint64_t be_bytes(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static int rd_i64(pdec *d, int64_t *out, const char *msg, const char *field)
{
	mycel_type t;
	const uint8_t *p = d->r.p;
	int rc = mycel_rd_peek(&d->r, &t);

	if (rc != 0)
		return rd_fail(d, rc, msg, field, "int64");
	if (t == MYCEL_T_UINT) {
		uint64_t u;

		if ((rc = mycel_rd_uint(&d->r, &u)) != 0)
			return rd_fail(d, rc, msg, field, "int64");
		if (u > (uint64_t)INT64_MAX)
			return fail(d, MYCEL_ETOOBIG, msg, field, "%%" PRIu64 " does not fit int64", u);
		*out = (int64_t)u;
		return 0;
	}
	if (t != MYCEL_T_INT)
		return fail(d, MYCEL_ETYPE, msg, field, "expected int64, found %%s", mycel_type_name(t));
	if ((rc = mycel_rd_skip(&d->r, 0)) != 0)
		return rd_fail(d, rc, msg, field, "int64");
	if (p[0] >= 0xe0) {
		*out = (int64_t)(int8_t)p[0];
	} else {
		size_t n = (size_t)1 << (p[0] - 0xd0); /* d0..d3: 1, 2, 4, 8 bytes */
		uint64_t u = be_bytes(p + 1, n);

		if (n < 8) /* sign-extend */
			u |= ~(uint64_t)0 << (8 * n);
		memcpy(out, &u, sizeof(*out));
	}
	return 0;
}

static int rd_f64(pdec *d, double *out, const char *msg, const char *field)
{
	mycel_type t;
	const uint8_t *p = d->r.p;
	int rc = mycel_rd_peek(&d->r, &t);
	uint64_t u;

	if (rc != 0)
		return rd_fail(d, rc, msg, field, "double");
	if (t != MYCEL_T_FLOAT)
		return fail(d, MYCEL_ETYPE, msg, field, "expected double, found %%s", mycel_type_name(t));
	if ((rc = mycel_rd_skip(&d->r, 0)) != 0)
		return rd_fail(d, rc, msg, field, "double");
	u = be_bytes(p + 1, 8);
	memcpy(out, &u, sizeof(*out));
	return 0;
}

static int rd_str(pdec *d, const char **out, size_t *out_len, uint64_t max, const char *msg,
		  const char *field)
{
	const char *s;
	size_t n;
	char *copy;
	int rc = mycel_rd_str(&d->r, &s, &n);

	if (rc != 0)
		return rd_fail(d, rc, msg, field, "string");
	if (n > max)
		return fail(d, MYCEL_ETOOBIG, msg, field, "string of %%zu bytes, at most %%" PRIu64,
			    n, max);
	if ((copy = mycel_arena_strdup(d->a, s, n)) == NULL)
		return fail(d, MYCEL_ENOMEM, msg, field, "arena exhausted");
	*out = copy;
	*out_len = n;
	return 0;
}

static int rd_bin(pdec *d, const uint8_t **out, size_t *out_len, uint64_t max, const char *msg,
		  const char *field)
{
	const uint8_t *s;
	size_t n;
	char *copy;
	int rc = mycel_rd_bin(&d->r, &s, &n);

	if (rc != 0)
		return rd_fail(d, rc, msg, field, "bytes");
	if (n > max)
		return fail(d, MYCEL_ETOOBIG, msg, field, "bytes of length %%zu, at most %%" PRIu64,
			    n, max);
	if ((copy = mycel_arena_strdup(d->a, (const char *)s, n)) == NULL)
		return fail(d, MYCEL_ENOMEM, msg, field, "arena exhausted");
	*out = (const uint8_t *)copy;
	*out_len = n;
	return 0;
}

/* Reads a list header and allocates count elements of size el (count bounded first). */
static int rd_list(pdec *d, void **out, size_t *out_n, size_t el, uint64_t max, const char *msg,
		   const char *field)
{
	uint32_t count;
	void *p;
	int rc = mycel_rd_array(&d->r, &count);

	if (rc != 0)
		return rd_fail(d, rc, msg, field, "array");
	if (count > max)
		return fail(d, MYCEL_ETOOBIG, msg, field, "%%" PRIu32 " elements, at most %%" PRIu64,
			    count, max);
	*out_n = count;
	*out = NULL;
	if (count == 0)
		return 0;
	if ((size_t)count > SIZE_MAX / el || (p = mycel_arena_alloc(d->a, (size_t)count * el)) == NULL)
		return fail(d, MYCEL_ENOMEM, msg, field, "arena exhausted");
	memset(p, 0, (size_t)count * el);
	*out = p;
	return 0;
}

/* Opens a message: an array at depth depth; *count its length. */
static int rd_open(pdec *d, int depth, uint32_t *count, const char *msg)
{
	int rc;

	if (depth > MYCEL_MAX_DEPTH)
		return fail(d, MYCEL_EDEPTH, msg, NULL, "nested deeper than %%d", MYCEL_MAX_DEPTH);
	if ((rc = mycel_rd_array(&d->r, count)) != 0)
		return rd_fail(d, rc, msg, NULL, "a message (array)");
	return 0;
}

/* A message field's value must be an array: said with the field's name. */
static int want_msg(pdec *d, const char *msg, const char *field)
{
	mycel_type t;
	int rc = mycel_rd_peek(&d->r, &t);

	if (rc != 0)
		return rd_fail(d, rc, msg, field, "a message (array)");
	if (t != MYCEL_T_ARRAY)
		return fail(d, MYCEL_ETYPE, msg, field, "expected a message (array), found %%s",
			    mycel_type_name(t));
	return 0;
}

/* Skips an element beyond the known fields (or an unassigned number). */
static int rd_unknown(pdec *d, int depth, const char *msg, uint32_t index)
{
	int rc = mycel_rd_skip(&d->r, depth);

	if (rc != 0)
		return fail(d, rc, msg, NULL, "unknown field %%" PRIu32 ": %%s", index + 1,
			    mycel_strerror(rc));
	return 0;
}

static int rd_finish(pdec *d, const char *msg)
{
	int rc = mycel_rd_end(&d->r);

	return rc ? fail(d, rc, msg, NULL, "bytes after the message") : 0;
}

/* ---- encoding helpers ---- */

static int enc_check(mycel_buf *b)
{
	return b->err;
}

/* Encoders of messages, with the depth of the array they write. */
"""


def gen_source(p, idl_name):
    out = [SOURCE_TOP % {"idl": idl_name}]
    # forward declarations of the internal functions (messages may refer to each other)
    for m in p.messages:
        out.append("static int enc_%s(const %s *m, mycel_buf *b, int depth);" % (m.name, ctype_of(m.name)))
        out.append("static int dec_%s(pdec *d, %s *out, int depth);" % (m.name, ctype_of(m.name)))
    out.append("")
    for m in p.messages:
        out.append(gen_encoder(m))
        out.append(gen_decoder(m))
        out.append(gen_public(m, p))
    out.append(gen_tables(p))
    return "\n".join(out)


def present_expr(f):
    if f.repeated:
        return "m->n_%s > 0" % f.name
    if f.type in SCALARS:
        return "m->has_%s" % f.name
    return "m->%s != NULL" % f.name


def value_max(f):
    """The byte bound of one string or bytes value: on a repeated field [max] bounds the
    number of elements (mycel.idl), each element has the type's default bound."""
    return DEFAULT_MAX[f.type] if f.repeated else f.max


def enc_value(f, expr, lenexpr, ind):
    """Lines writing one value (a scalar, string, bytes or message) at expr."""
    t = f.type
    if t == "bool":
        return [ind + "mycel_enc_bool(b, %s);" % expr]
    if t == "uint64":
        return [ind + "mycel_enc_uint(b, %s);" % expr]
    if t == "int64":
        return [ind + "mycel_enc_int(b, %s);" % expr]
    if t == "double":
        return [ind + "mycel_enc_float(b, %s);" % expr]
    if t in ("string", "bytes"):
        fn = "mycel_enc_str" if t == "string" else "mycel_enc_bin"
        return [ind + "if (%s == NULL && %s != 0)" % (expr, lenexpr),
                ind + "\treturn MYCEL_EINVAL;",
                ind + "if (%s > %dU)" % (lenexpr, value_max(f)),
                ind + "\treturn MYCEL_ETOOBIG;",
                ind + "%s(b, %s, %s);" % (fn, expr, lenexpr)]
    return [ind + "if ((rc = enc_%s(%s, b, depth + 1)) != 0)" % (t, expr),
            ind + "\treturn rc;"]


def gen_encoder(m):
    T = ctype_of(m.name)
    L = ["static int enc_%s(const %s *m, mycel_buf *b, int depth)" % (m.name, T), "{"]
    uses_rc = any(f.type not in BUILTINS for f in m.fields)
    L.append("\tuint32_t n = 0;")
    if not m.fields:
        L.append("\t(void)m;")
    if uses_rc:
        L.append("\tint rc;")
    L.append("")
    L.append("\tif (b->err != 0)")
    L.append("\t\treturn b->err;")
    L.append("\tif (depth > MYCEL_MAX_DEPTH)")
    L.append("\t\treturn MYCEL_EDEPTH;")
    fields = sorted(m.fields, key=lambda f: f.number)
    # the array length: the highest present field number
    for f in reversed(fields):
        L.append("\tif (n == 0 && %s)" % present_expr(f))
        L.append("\t\tn = %d;" % f.number)
    L.append("\tmycel_enc_array(b, n);")
    expected = 1
    for f in fields:
        for gap in range(expected, f.number):
            L.append("\tif (n > %d) /* field %d: not assigned */" % (gap - 1, gap))
            L.append("\t\tmycel_enc_nil(b);")
        expected = f.number + 1
        L.append("\tif (n >= %d) { /* %s */" % (f.number, f.name))
        if f.repeated:
            L.append("\t\tif (m->n_%s == 0) {" % f.name)
            L.append("\t\t\tmycel_enc_nil(b);")
            L.append("\t\t} else {")
            L.append("\t\t\tif (m->%s == NULL)" % f.name)
            L.append("\t\t\t\treturn MYCEL_EINVAL;")
            L.append("\t\t\tif (m->n_%s > %dU)" % (f.name, f.max))
            L.append("\t\t\t\treturn MYCEL_ETOOBIG;")
            L.append("\t\t\tif (depth + 1 > MYCEL_MAX_DEPTH)")
            L.append("\t\t\t\treturn MYCEL_EDEPTH;")
            L.append("\t\t\tmycel_enc_array(b, (uint32_t)m->n_%s);" % f.name)
            L.append("\t\t\tfor (size_t i = 0; i < m->n_%s; i++) {" % f.name)
            if f.type in ("string", "bytes"):
                L += enc_value(f, "m->%s[i].ptr" % f.name, "m->%s[i].len" % f.name, "\t\t\t\t")
            elif f.type in SCALARS:
                L += enc_value(f, "m->%s[i]" % f.name, None, "\t\t\t\t")
            else:
                # elements of a list sit one level deeper
                L.append("\t\t\t\tif ((rc = enc_%s(&m->%s[i], b, depth + 2)) != 0)" % (f.type, f.name))
                L.append("\t\t\t\t\treturn rc;")
            L.append("\t\t\t}")
            L.append("\t\t}")
        else:
            L.append("\t\tif (!(%s)) {" % present_expr(f))
            if f.type in ("string", "bytes"):
                L.append("\t\t\tif (m->%s_len != 0)" % f.name)
                L.append("\t\t\t\treturn MYCEL_EINVAL;")
            L.append("\t\t\tmycel_enc_nil(b);")
            L.append("\t\t} else {")
            if f.type in SCALARS:
                L += enc_value(f, "m->%s" % f.name, None, "\t\t\t")
            elif f.type in ("string", "bytes"):
                L += enc_value(f, "m->%s" % f.name, "m->%s_len" % f.name, "\t\t\t")
            else:
                L += enc_value(f, "m->%s" % f.name, None, "\t\t\t")
            L.append("\t\t}")
        L.append("\t}")
    L.append("\treturn enc_check(b);")
    L.append("}")
    L.append("")
    return "\n".join(L)


def dec_value(f, target, lentarget, ind, depth_expr):
    t, q = f.type, '"%s"' % f.name
    M = "MSG"
    if t == "bool":
        return [ind + "if ((rc = rd_bool(d, &%s, %s, %s)) != 0)" % (target, M, q), ind + "\treturn rc;"]
    if t == "uint64":
        return [ind + "if ((rc = rd_u64(d, &%s, %s, %s)) != 0)" % (target, M, q), ind + "\treturn rc;"]
    if t == "int64":
        return [ind + "if ((rc = rd_i64(d, &%s, %s, %s)) != 0)" % (target, M, q), ind + "\treturn rc;"]
    if t == "double":
        return [ind + "if ((rc = rd_f64(d, &%s, %s, %s)) != 0)" % (target, M, q), ind + "\treturn rc;"]
    if t == "string":
        return [ind + "if ((rc = rd_str(d, &%s, &%s, %dU, %s, %s)) != 0)" % (target, lentarget, value_max(f), M, q),
                ind + "\treturn rc;"]
    if t == "bytes":
        return [ind + "if ((rc = rd_bin(d, &%s, &%s, %dU, %s, %s)) != 0)" % (target, lentarget, value_max(f), M, q),
                ind + "\treturn rc;"]
    return [ind + "if ((rc = want_msg(d, %s, %s)) != 0 || (rc = dec_%s(d, %s, %s)) != 0)"
            % (M, q, t, target, depth_expr), ind + "\treturn rc;"]


def gen_decoder(m):
    T = ctype_of(m.name)
    L = ["#define MSG \"%s\"" % m.name,
         "static int dec_%s(pdec *d, %s *out, int depth)" % (m.name, T), "{"]
    L.append("\tuint32_t count;")
    L.append("\tint rc;")
    L.append("")
    L.append("\tmemset(out, 0, sizeof(*out));")
    L.append("\tif ((rc = rd_open(d, depth, &count, MSG)) != 0)")
    L.append("\t\treturn rc;")
    L.append("\tfor (uint32_t i = 0; i < count; i++) {")
    if m.fields:
        L.append("\t\tif (take_nil(d))")
        L.append("\t\t\tcontinue;")
        L.append("\t\tswitch (i + 1) {")
        for f in sorted(m.fields, key=lambda x: x.number):
            L.append("\t\tcase %d: { /* %s */" % (f.number, f.name))
            if f.repeated:
                el = member_decl(f)[0].split(" *")[0]  # "const T"
                el_t = el[len("const "):]
                L.append("\t\t\t%s *v;" % el_t)
                L.append("\t\t\tvoid *vp;")
                L.append("")
                L.append("\t\t\tif (depth + 1 > MYCEL_MAX_DEPTH)")
                L.append("\t\t\t\treturn fail(d, MYCEL_EDEPTH, MSG, \"%s\", \"nested deeper than %%d\", MYCEL_MAX_DEPTH);" % f.name)
                L.append("\t\t\tif ((rc = rd_list(d, &vp, &out->n_%s, sizeof(*v), %dU, MSG, \"%s\")) != 0)"
                         % (f.name, f.max, f.name))
                L.append("\t\t\t\treturn rc;")
                L.append("\t\t\tv = vp;")
                L.append("\t\t\tfor (size_t j = 0; j < out->n_%s; j++) {" % f.name)
                if f.type in ("string", "bytes"):
                    L += dec_value(f, "v[j].ptr", "v[j].len", "\t\t\t\t", None)
                elif f.type in SCALARS:
                    L += dec_value(f, "v[j]", None, "\t\t\t\t", None)
                else:
                    L += dec_value(f, "&v[j]", None, "\t\t\t\t", "depth + 2")
                L.append("\t\t\t}")
                L.append("\t\t\tout->%s = v;" % f.name)
            elif f.type in SCALARS:
                L += dec_value(f, "out->%s" % f.name, None, "\t\t\t", None)
                L.append("\t\t\tout->has_%s = true;" % f.name)
            elif f.type in ("string", "bytes"):
                L += dec_value(f, "out->%s" % f.name, "out->%s_len" % f.name, "\t\t\t", None)
            else:
                L.append("\t\t\t%s *v = mycel_arena_alloc(d->a, sizeof(*v));" % ctype_of(f.type))
                L.append("")
                L.append("\t\t\tif (v == NULL)")
                L.append("\t\t\t\treturn fail(d, MYCEL_ENOMEM, MSG, \"%s\", \"arena exhausted\");" % f.name)
                L += dec_value(f, "v", None, "\t\t\t", "depth + 1")
                L.append("\t\t\tout->%s = v;" % f.name)
            L.append("\t\t\tbreak;")
            L.append("\t\t}")
        L.append("\t\tdefault:")
        L.append("\t\t\tif ((rc = rd_unknown(d, depth, MSG, i)) != 0)")
        L.append("\t\t\t\treturn rc;")
        L.append("\t\t\tbreak;")
        L.append("\t\t}")
    else:
        L.append("\t\tif ((rc = rd_unknown(d, depth, MSG, i)) != 0)")
        L.append("\t\t\treturn rc;")
    L.append("\t}")
    L.append("\treturn 0;")
    L.append("}")
    L.append("#undef MSG")
    L.append("")
    return "\n".join(L)


def gen_public(m, p):
    T = ctype_of(m.name)
    return """int mycel_msg_%(n)s_encode(const %(T)s *m, mycel_buf *b)
{
	size_t start = b->len;
	int rc;

	if (b->err != 0)
		return b->err;
	rc = enc_%(n)s(m, b, 1);
	if (rc != 0 && b->err == 0 && b->len >= start)
		b->len = start; /* refused by a check of ours: leave nothing half-written */
	return rc;
}

int mycel_msg_%(n)s_decode(const uint8_t *p, size_t n, mycel_arena *a, %(T)s *out,
		char *why, size_t why_len)
{
	pdec d;
	int rc;

	d.a = a;
	d.why = why;
	d.why_len = why_len;
	if (why != NULL && why_len > 0)
		why[0] = '\\0';
	mycel_rd_init(&d.r, p, n);
	if ((rc = dec_%(n)s(&d, out, 1)) != 0)
		return rc;
	return rd_finish(&d, "%(n)s");
}

static int enc_void_%(n)s(const void *m, mycel_buf *b)
{
	return mycel_msg_%(n)s_encode(m, b);
}

static int dec_void_%(n)s(const uint8_t *p, size_t n, mycel_arena *a, void *out, char *why,
		size_t why_len)
{
	return mycel_msg_%(n)s_decode(p, n, a, out, why, why_len);
}
""" % {"n": m.name, "T": T}


def gen_tables(p):
    L = []
    for m in p.messages:
        if m.fields:
            L.append("static const mycel_field_desc fields_%s[] = {" % m.name)
            for f in sorted(m.fields, key=lambda x: x.number):
                ft = FTYPE.get(f.type, "MYCEL_F_MESSAGE")
                sub = "&mycel_msg_%s_desc" % f.type if f.type not in BUILTINS else "NULL"
                L.append('\t{"%s", %d, %s, %s, %dU, %s},' % (
                    f.name, f.number, ft, "true" if f.repeated else "false", f.max or 0, sub))
            L.append("};")
    L.append("")
    for m in p.messages:
        maxn = max([f.number for f in m.fields] or [0])
        L.append("const mycel_msg_desc mycel_msg_%s_desc = {" % m.name)
        L.append('\t"%s", "%s.%s", sizeof(%s), enc_void_%s, dec_void_%s,' % (
            m.name, p.package, m.name, ctype_of(m.name), m.name, m.name))
        if m.fields:
            L.append("\tfields_%s, %d, %d," % (m.name, len(m.fields), maxn))
        else:
            L.append("\tNULL, 0, 0,")
        L.append("};")
        L.append("")
    L.append("const mycel_msg_desc mycel_msg_descs[] = {")
    for m in p.messages:
        L.append('\t{"%s", "%s.%s", sizeof(%s), enc_void_%s, dec_void_%s, %s, %d, %d},' % (
            m.name, p.package, m.name, ctype_of(m.name), m.name, m.name,
            ("fields_" + m.name) if m.fields else "NULL", len(m.fields),
            max([f.number for f in m.fields] or [0])))
    L.append("};")
    L.append("const size_t mycel_n_msg_descs = %d;" % len(p.messages))
    L.append("")
    L.append("static const mycel_msg_desc *const desc_ptrs[] = {")
    for m in p.messages:
        L.append("\t&mycel_msg_%s_desc," % m.name)
    L.append("};")
    L.append("")
    L.append("""const mycel_msg_desc *mycel_msg_desc_find(const char *name)
{
	static const char prefix[] = "%s.";
	size_t pl = sizeof(prefix) - 1;

	if (name == NULL)
		return NULL;
	if (strncmp(name, prefix, pl) == 0)
		name += pl;
	for (size_t i = 0; i < mycel_n_msg_descs; i++)
		if (strcmp(desc_ptrs[i]->name, name) == 0)
			return desc_ptrs[i];
	return NULL;
}
""" % p.package)
    L.append("const mycel_method mycel_methods[] = {")
    n = 0
    for s in p.services:
        for r in s.rpcs:
            n += 1
            L.append('\t{"%s.%s/%s", "%s.%s", "%s", &mycel_msg_%s_desc, &mycel_msg_%s_desc,' % (
                p.package, s.name, r.name, p.package, s.name, r.name, r.req.name, r.rep.name))
            L.append("\t\tenc_void_%s, dec_void_%s, enc_void_%s, dec_void_%s, %s}," % (
                r.req.name, r.req.name, r.rep.name, r.rep.name,
                "true" if s.name == "Admin" else "false"))
    L.append("};")
    L.append("const size_t mycel_n_methods = %d;" % n)
    L.append("""
const mycel_method *mycel_method_find(const char *name, size_t len)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < mycel_n_methods; i++) {
		const char *m = mycel_methods[i].name;

		if (strlen(m) == len && memcmp(m, name, len) == 0)
			return &mycel_methods[i];
	}
	return NULL;
}""")
    return "\n".join(L) + "\n"


def write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except OSError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv):
    if len(argv) != 4:
        sys.stderr.write("usage: gen.py IDL OUT.h OUT.c\n")
        return 2
    idl, out_h, out_c = argv[1:]
    try:
        with open(idl, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        sys.stderr.write("%s: cannot read: %s\n" % (idl, e))
        return 1
    try:
        p = Parser(idl, text)
        p.parse()
    except IdlError as e:
        sys.stderr.write("%s\n" % e)
        return 1
    name = os.path.basename(idl)
    write_if_changed(out_h, gen_header(p, "proto/" + name))
    write_if_changed(out_c, gen_source(p, "proto/" + name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
