/*
 * cel_lib.c — the functions of the CEL subset (size, contains, startsWith,
 * endsWith, matches, the conversions, timestamp and duration with their
 * accessors, type), the RFC 3339 and duration formats, and the rendering of
 * values as text.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel_int.h"
#include "mycel/error.h"

__extension__ typedef __int128 i128;

#define NS_PER_S 1000000000LL

/* ---- calendar (proleptic Gregorian, days since 1970-01-01) ------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
	static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

static int digits(const char *s, size_t n, size_t at, size_t k, int *out)
{
	int v = 0;
	if (at + k > n)
		return -1;
	for (size_t i = 0; i < k; i++) {
		if (s[at + i] < '0' || s[at + i] > '9')
			return -1;
		v = v * 10 + (s[at + i] - '0');
	}
	*out = v;
	return 0;
}

/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM). */
int mycel__cel_parse_ts(const char *s, size_t n, int64_t *sec, int32_t *ns)
{
	int y, mo, d, h, mi, se, oh = 0, om = 0;
	size_t i = 19;
	int64_t frac = 0;

	if (digits(s, n, 0, 4, &y) || n < 20 || s[4] != '-' || digits(s, n, 5, 2, &mo) ||
	    s[7] != '-' || digits(s, n, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    digits(s, n, 11, 2, &h) || s[13] != ':' || digits(s, n, 14, 2, &mi) || s[16] != ':' ||
	    digits(s, n, 17, 2, &se))
		return -1;
	if (i < n && s[i] == '.') {
		size_t k = 0;
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (k >= 9)
				return -1;
			frac = frac * 10 + (s[i] - '0');
			k++;
			i++;
		}
		if (k == 0)
			return -1;
		for (; k < 9; k++)
			frac *= 10;
	}
	if (i >= n)
		return -1;
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		if (digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' ||
		    digits(s, n, i + 4, 2, &om) || oh > 23 || om > 59)
			return -1;
		if (s[i] == '-') {
			oh = -oh;
			om = -om;
		}
		i += 6;
	} else {
		return -1;
	}
	if (i != n || mo < 1 || mo > 12 || d < 1 || (unsigned)d > month_days(y, (unsigned)mo) ||
	    h > 23 || mi > 59 || se > 59)
		return -1;
	int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
	t -= (int64_t)oh * 3600 + (int64_t)om * 60;
	if (t < CEL_TS_MIN || t > CEL_TS_MAX)
		return -1;
	*sec = t;
	*ns = (int32_t)frac;
	return 0;
}

bool mycel__cel_dur_ok(int64_t sec, int32_t ns)
{
	i128 t = (i128)sec * NS_PER_S + ns;
	return t >= (i128)INT64_MIN && t <= (i128)INT64_MAX;
}

/* Go's duration syntax: [-+]? (number unit)+ with units h m s ms us µs ns, or "0". */
int mycel__cel_parse_dur(const char *s, size_t n, int64_t *sec, int32_t *ns)
{
	size_t i = 0;
	bool neg = false;
	i128 total = 0;
	const i128 limit = (i128)INT64_MAX + 1;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (i == n)
		return -1;
	if (n - i == 1 && s[i] == '0') {
		*sec = 0;
		*ns = 0;
		return 0;
	}
	while (i < n) {
		i128 whole = 0, frac = 0, scale = 1;
		size_t start = i;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			whole = whole * 10 + (s[i++] - '0');
			if (whole > limit)
				return -1;
		}
		bool had_whole = i > start;
		if (i < n && s[i] == '.') {
			i++;
			size_t fs = i;
			while (i < n && s[i] >= '0' && s[i] <= '9') {
				if (scale < (i128)1000000000000000000LL) {
					frac = frac * 10 + (s[i] - '0');
					scale *= 10;
				}
				i++;
			}
			if (i == fs && !had_whole)
				return -1;
		} else if (!had_whole) {
			return -1;
		}
		i128 unit;
		if (i + 2 <= n && memcmp(s + i, "ns", 2) == 0) {
			unit = 1;
			i += 2;
		} else if (i + 2 <= n && memcmp(s + i, "us", 2) == 0) {
			unit = 1000;
			i += 2;
		} else if (i + 3 <= n && memcmp(s + i, "\xc2\xb5s", 3) == 0) {
			unit = 1000;
			i += 3;
		} else if (i + 2 <= n && memcmp(s + i, "ms", 2) == 0) {
			unit = 1000000;
			i += 2;
		} else if (i < n && s[i] == 's') {
			unit = NS_PER_S;
			i++;
		} else if (i < n && s[i] == 'm') {
			unit = 60 * NS_PER_S;
			i++;
		} else if (i < n && s[i] == 'h') {
			unit = 3600 * NS_PER_S;
			i++;
		} else {
			return -1;
		}
		total += whole * unit + frac * unit / scale;
		if (total > limit)
			return -1;
	}
	if (neg)
		total = -total;
	if (total > (i128)INT64_MAX)
		return -1;
	int64_t sc = (int64_t)(total / NS_PER_S);
	int64_t r = (int64_t)(total % NS_PER_S);
	if (r < 0) {
		r += NS_PER_S;
		sc--;
	}
	*sec = sc;
	*ns = (int32_t)r;
	return 0;
}

static size_t fmt_frac(int32_t ns, char *out)
{
	char buf[16];
	int len;
	if (ns == 0)
		return 0;
	len = snprintf(buf, sizeof(buf), ".%09d", (int)ns);
	while (len > 1 && buf[len - 1] == '0')
		len--;
	memcpy(out, buf, (size_t)len);
	return (size_t)len;
}

void mycel__cel_fmt_ts(int64_t sec, int32_t ns, char *out, size_t out_len)
{
	int64_t days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
	int64_t rem = sec - days * 86400, y;
	unsigned m, d;
	char frac[16];
	size_t fl;

	civil_from_days(days, &y, &m, &d);
	fl = fmt_frac(ns, frac);
	frac[fl] = '\0';
	snprintf(out, out_len, "%04lld-%02u-%02uT%02d:%02d:%02d%sZ", (long long)y, m, d,
	         (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), frac);
}

void mycel__cel_fmt_dur(int64_t sec, int32_t ns, char *out, size_t out_len)
{
	bool neg = sec < 0;
	char frac[16];
	size_t fl;

	if (neg && ns > 0) {
		sec = -sec - 1;
		ns = (int32_t)(NS_PER_S - ns);
	} else if (neg) {
		sec = -sec;
	}
	fl = fmt_frac(ns, frac);
	frac[fl] = '\0';
	snprintf(out, out_len, "%s%lld%ss", neg ? "-" : "", (long long)sec, frac);
}

/* The shortest text that reads back as f, %g-style with a switch to exponents at 1e21. */
void mycel__cel_fmt_double(double f, char *out, size_t out_len)
{
	char buf[64];
	int p;

	if (isnan(f)) {
		snprintf(out, out_len, "NaN");
		return;
	}
	if (isinf(f)) {
		snprintf(out, out_len, f < 0 ? "-Infinity" : "Infinity");
		return;
	}
	for (p = 1; p < 17; p++) {
		snprintf(buf, sizeof(buf), "%.*e", p - 1, f);
		if (strtod(buf, NULL) == f)
			break;
	}
	snprintf(buf, sizeof(buf), "%.*e", p - 1, f);
	int exp = atoi(strchr(buf, 'e') + 1);
	if (exp < -4 || exp >= 21) {
		snprintf(out, out_len, "%s", buf);
		return;
	}
	int dec = p - 1 - exp;
	snprintf(out, out_len, "%.*f", dec > 0 ? dec : 0, f);
}

pcre2_code *mycel__cel_regex(const char *p, size_t n, char *why, size_t why_len)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re =
	    pcre2_compile((PCRE2_SPTR)p, n, PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C, &code, &off, NULL);
	if (re == NULL) {
		PCRE2_UCHAR msg[120];
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", code);
		snprintf(why, why_len, "invalid pattern at offset %zu: %s", (size_t)off,
		         (char *)msg);
	}
	return re;
}

/* ---- the functions ----------------------------------------------------- */

static cel_val mk(cel_kind k)
{
	cel_val v;
	memset(&v, 0, sizeof(v));
	v.kind = (uint8_t)k;
	return v;
}

static cel_val vint(int64_t i)
{
	cel_val v = mk(CK_INT);
	v.v.i = i;
	return v;
}

static cel_val vbool(bool b)
{
	cel_val v = mk(CK_BOOL);
	v.v.b = b;
	return v;
}

static cel_val vstr(cel_ctx *ctx, cel_kind k, const char *s, size_t n)
{
	cel_val v = mk(k);
	char *p = mycel__cel_alloc(ctx, n + 1);
	if (p == NULL)
		return ctx->fatal_err;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	v.v.s.p = p;
	v.v.s.n = n;
	return v;
}

static size_t utf8_count(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

static cel_val bad(cel_ctx *ctx, const cel_node *n, const cel_val *a)
{
	return mycel__cel_err(ctx, n, "no such overload: %s(%s)", mycel__cel_fn_name(n->op),
	                      mycel__cel_type_name(a));
}

static cel_val do_matches(cel_ctx *ctx, const cel_node *n, const cel_val *s, const cel_val *pat)
{
	pcre2_code *re = n->re, *own = NULL;
	pcre2_match_data *md;
	int rc;

	if (s->kind != CK_STRING || pat->kind != CK_STRING)
		return mycel__cel_err(ctx, n, "no such overload: matches(%s, %s)",
		                      mycel__cel_type_name(s), mycel__cel_type_name(pat));
	if (!mycel__cel_charge(ctx, s->v.s.n + pat->v.s.n))
		return ctx->fatal_err;
	if (re == NULL) {
		char why[200];
		own = re = mycel__cel_regex(pat->v.s.p, pat->v.s.n, why, sizeof(why));
		if (re == NULL)
			return mycel__cel_err(ctx, n, "%s", why);
	}
	md = pcre2_match_data_create(1, NULL);
	if (md == NULL) {
		pcre2_code_free(own);
		return mycel__cel_err(ctx, n, "out of memory");
	}
	rc = pcre2_match(re, (PCRE2_SPTR)s->v.s.p, s->v.s.n, 0, 0, md, ctx->mctx);
	pcre2_match_data_free(md);
	pcre2_code_free(own);
	if (rc == PCRE2_ERROR_NOMATCH) {
		ctx->blame = s->path;
		return vbool(false);
	}
	if (rc < 0)
		return mycel__cel_err(ctx, n, "pattern match exceeds its limits (error %d)", rc);
	return vbool(true);
}

static cel_val str_fn(cel_ctx *ctx, const cel_node *n, const cel_val *s, const cel_val *t)
{
	bool r = false;
	if (s->kind != CK_STRING || t->kind != CK_STRING)
		return mycel__cel_err(ctx, n, "no such overload: %s.%s(%s)",
		                      mycel__cel_type_name(s), mycel__cel_fn_name(n->op),
		                      mycel__cel_type_name(t));
	if (!mycel__cel_charge(ctx, 1 + s->v.s.n))
		return ctx->fatal_err;
	size_t a = s->v.s.n, b = t->v.s.n;
	switch (n->op) {
	case F_STARTS:
		r = b <= a && memcmp(s->v.s.p, t->v.s.p, b) == 0;
		break;
	case F_ENDS:
		r = b <= a && memcmp(s->v.s.p + a - b, t->v.s.p, b) == 0;
		break;
	default:
		r = b == 0 || (b <= a && memmem(s->v.s.p, a, t->v.s.p, b) != NULL);
		break;
	}
	if (!r)
		ctx->blame = s->path;
	return vbool(r);
}

static bool parse_int_text(const char *s, size_t n, bool is_unsigned, int64_t *i, uint64_t *u)
{
	char buf[32], *end;
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (buf[0] == ' ' || buf[0] == '\t' || buf[0] == '\n' || (is_unsigned && buf[0] == '-') ||
	    buf[0] == '+')
		return false;
	errno = 0;
	if (is_unsigned)
		*u = strtoull(buf, &end, 10);
	else
		*i = strtoll(buf, &end, 10);
	return errno == 0 && *end == '\0';
}

static cel_val conv(cel_ctx *ctx, const cel_node *n, const cel_val *a)
{
	char buf[64];
	cel_val v;

	switch (n->op) {
	case F_INT:
		switch (a->kind) {
		case CK_INT:
			return vint(a->v.i);
		case CK_UINT:
			if (a->v.u > (uint64_t)INT64_MAX)
				return mycel__cel_err(ctx, n,
				                      "integer overflow: int(%lluu) out of range",
				                      (unsigned long long)a->v.u);
			return vint((int64_t)a->v.u);
		case CK_DOUBLE:
			if (!(a->v.f > -0x1p63 && a->v.f < 0x1p63))
				return mycel__cel_err(ctx, n, "int() of a double out of range");
			return vint((int64_t)a->v.f);
		case CK_STRING: {
			int64_t i;
			if (!parse_int_text(a->v.s.p, a->v.s.n, false, &i, NULL))
				return mycel__cel_err(ctx, n, "type conversion error: int('%.*s')",
				                      (int)(a->v.s.n > 40 ? 40 : a->v.s.n),
				                      a->v.s.p);
			return vint(i);
		}
		case CK_TS:
			return vint(a->v.t.sec);
		default:
			return bad(ctx, n, a);
		}
	case F_UINT:
		v = mk(CK_UINT);
		switch (a->kind) {
		case CK_UINT:
			v.v.u = a->v.u;
			return v;
		case CK_INT:
			if (a->v.i < 0)
				return mycel__cel_err(
				    ctx, n, "unsigned integer overflow: uint(%lld) out of range",
				    (long long)a->v.i);
			v.v.u = (uint64_t)a->v.i;
			return v;
		case CK_DOUBLE:
			if (!(a->v.f > -1.0 && a->v.f < 0x1p64))
				return mycel__cel_err(ctx, n, "uint() of a double out of range");
			v.v.u = (uint64_t)a->v.f;
			return v;
		case CK_STRING:
			if (!parse_int_text(a->v.s.p, a->v.s.n, true, NULL, &v.v.u))
				return mycel__cel_err(ctx, n, "type conversion error: uint('%.*s')",
				                      (int)(a->v.s.n > 40 ? 40 : a->v.s.n),
				                      a->v.s.p);
			return v;
		default:
			return bad(ctx, n, a);
		}
	case F_DOUBLE:
		v = mk(CK_DOUBLE);
		switch (a->kind) {
		case CK_DOUBLE:
			v.v.f = a->v.f;
			return v;
		case CK_INT:
			v.v.f = (double)a->v.i;
			return v;
		case CK_UINT:
			v.v.f = (double)a->v.u;
			return v;
		case CK_STRING: {
			char *end;
			if (a->v.s.n == 0 || a->v.s.n >= sizeof(buf) || a->v.s.p[0] == ' ')
				goto bad_double;
			memcpy(buf, a->v.s.p, a->v.s.n);
			buf[a->v.s.n] = '\0';
			if (strchr(buf, '(') != NULL)
				goto bad_double;
			v.v.f = strtod(buf, &end);
			if (*end != '\0')
				goto bad_double;
			return v;
		bad_double:
			return mycel__cel_err(ctx, n, "type conversion error: double('%.*s')",
			                      (int)(a->v.s.n > 40 ? 40 : a->v.s.n), a->v.s.p);
		}
		default:
			return bad(ctx, n, a);
		}
	case F_STRING:
		switch (a->kind) {
		case CK_STRING:
			return *a;
		case CK_INT:
			snprintf(buf, sizeof(buf), "%lld", (long long)a->v.i);
			break;
		case CK_UINT:
			snprintf(buf, sizeof(buf), "%llu", (unsigned long long)a->v.u);
			break;
		case CK_DOUBLE:
			mycel__cel_fmt_double(a->v.f, buf, sizeof(buf));
			break;
		case CK_BOOL:
			snprintf(buf, sizeof(buf), "%s", a->v.b ? "true" : "false");
			break;
		case CK_TS:
			mycel__cel_fmt_ts(a->v.t.sec, a->v.t.ns, buf, sizeof(buf));
			break;
		case CK_DUR:
			mycel__cel_fmt_dur(a->v.t.sec, a->v.t.ns, buf, sizeof(buf));
			break;
		case CK_BYTES:
			if (!mycel_utf8_valid((const uint8_t *)a->v.s.p, a->v.s.n))
				return mycel__cel_err(ctx, n,
				                      "string() of bytes that are not UTF-8");
			v = *a;
			v.kind = CK_STRING;
			return v;
		default:
			return bad(ctx, n, a);
		}
		return vstr(ctx, CK_STRING, buf, strlen(buf));
	case F_BYTES:
		if (a->kind == CK_BYTES || a->kind == CK_STRING) {
			v = *a;
			v.kind = CK_BYTES;
			return v;
		}
		return bad(ctx, n, a);
	case F_BOOL:
		if (a->kind == CK_BOOL)
			return *a;
		if (a->kind == CK_STRING) {
			static const char *const t[] = {"1", "t", "true", "TRUE", "True"};
			static const char *const f[] = {"0", "f", "false", "FALSE", "False"};
			for (size_t i = 0; i < 5; i++) {
				if (strlen(t[i]) == a->v.s.n &&
				    memcmp(t[i], a->v.s.p, a->v.s.n) == 0)
					return vbool(true);
				if (strlen(f[i]) == a->v.s.n &&
				    memcmp(f[i], a->v.s.p, a->v.s.n) == 0)
					return vbool(false);
			}
			return mycel__cel_err(ctx, n, "type conversion error: bool('%.*s')",
			                      (int)(a->v.s.n > 40 ? 40 : a->v.s.n), a->v.s.p);
		}
		return bad(ctx, n, a);
	case F_TYPE:
		v = mk(CK_TYPE);
		v.v.s.p = mycel__cel_type_name(a);
		v.v.s.n = strlen(v.v.s.p);
		return v;
	case F_DYN:
		return *a;
	case F_TIMESTAMP:
		v = mk(CK_TS);
		if (a->kind == CK_TS)
			return *a;
		if (a->kind == CK_INT) {
			if (a->v.i < CEL_TS_MIN || a->v.i > CEL_TS_MAX)
				return mycel__cel_err(ctx, n, "timestamp out of range");
			v.v.t.sec = a->v.i;
			return v;
		}
		if (a->kind == CK_STRING) {
			if (mycel__cel_parse_ts(a->v.s.p, a->v.s.n, &v.v.t.sec, &v.v.t.ns) != 0)
				return mycel__cel_err(ctx, n,
				                      "timestamp('%.*s'): not an RFC 3339 time "
				                      "between years 1 and 9999",
				                      (int)(a->v.s.n > 40 ? 40 : a->v.s.n),
				                      a->v.s.p);
			return v;
		}
		return bad(ctx, n, a);
	case F_DURATION:
		v = mk(CK_DUR);
		if (a->kind == CK_DUR)
			return *a;
		if (a->kind == CK_STRING) {
			if (mycel__cel_parse_dur(a->v.s.p, a->v.s.n, &v.v.t.sec, &v.v.t.ns) != 0)
				return mycel__cel_err(ctx, n,
				                      "duration('%.*s'): not a duration such as "
				                      "1h30m or 2.5s within 292 years",
				                      (int)(a->v.s.n > 40 ? 40 : a->v.s.n),
				                      a->v.s.p);
			return v;
		}
		return bad(ctx, n, a);
	}
	return bad(ctx, n, a);
}

/* A time zone: UTC, or a fixed offset [+-]HH:MM; seconds east of UTC. */
static bool parse_tz(const cel_val *tz, int64_t *off)
{
	const char *s = tz->v.s.p;
	size_t n = tz->v.s.n, i = 0;
	int h, m, sign = 1;

	if ((n == 3 && memcmp(s, "UTC", 3) == 0) || (n == 1 && s[0] == 'Z')) {
		*off = 0;
		return true;
	}
	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		sign = s[0] == '-' ? -1 : 1;
		i = 1;
	}
	if (n - i != 5 || digits(s, n, i, 2, &h) || s[i + 2] != ':' || digits(s, n, i + 3, 2, &m) ||
	    h > 23 || m > 59)
		return false;
	*off = sign * ((int64_t)h * 3600 + m * 60);
	return true;
}

static cel_val getter(cel_ctx *ctx, const cel_node *n, const cel_val *t, const cel_val *tz)
{
	if (t->kind == CK_DUR) {
		if (tz != NULL)
			return mycel__cel_err(ctx, n, "%s() of a duration takes no time zone",
			                      mycel__cel_fn_name(n->op));
		/* totals, truncated toward zero */
		int64_t s = t->v.t.sec, ns = t->v.t.ns;
		if (s < 0 && ns > 0) {
			s++;
			ns -= NS_PER_S;
		}
		switch (n->op) {
		case F_GET_HOURS:
			return vint(s / 3600);
		case F_GET_MINUTES:
			return vint(s / 60);
		case F_GET_SECONDS:
			return vint(s);
		case F_GET_MILLISECONDS:
			return vint(ns / 1000000);
		default:
			return mycel__cel_err(ctx, n, "no such overload: duration.%s()",
			                      mycel__cel_fn_name(n->op));
		}
	}
	if (t->kind != CK_TS)
		return mycel__cel_err(ctx, n, "no such overload: %s.%s()", mycel__cel_type_name(t),
		                      mycel__cel_fn_name(n->op));
	int64_t off = 0;
	if (tz != NULL) {
		if (tz->kind != CK_STRING)
			return mycel__cel_err(ctx, n, "a time zone is a string, not %s",
			                      mycel__cel_type_name(tz));
		if (!parse_tz(tz, &off))
			return mycel__cel_err(ctx, n,
			                      "time zone '%.*s' is not supported (use UTC or an "
			                      "offset such as +01:00)",
			                      (int)(tz->v.s.n > 40 ? 40 : tz->v.s.n), tz->v.s.p);
	}
	int64_t sec = t->v.t.sec + off;
	int64_t days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
	int64_t rem = sec - days * 86400, y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	switch (n->op) {
	case F_GET_FULL_YEAR:
		return vint(y);
	case F_GET_MONTH:
		return vint((int64_t)m - 1);
	case F_GET_DAY_OF_YEAR:
		return vint(days - days_from_civil(y, 1, 1));
	case F_GET_DAY_OF_MONTH:
		return vint((int64_t)d - 1);
	case F_GET_DATE:
		return vint(d);
	case F_GET_DAY_OF_WEEK:
		return vint(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
	case F_GET_HOURS:
		return vint(rem / 3600);
	case F_GET_MINUTES:
		return vint(rem / 60 % 60);
	case F_GET_SECONDS:
		return vint(rem % 60);
	case F_GET_MILLISECONDS:
		return vint(t->v.t.ns / 1000000);
	}
	return bad(ctx, n, t);
}

cel_val mycel__cel_call(cel_ctx *ctx, const cel_node *n, const cel_val *target, const cel_val *args,
                        size_t n_args)
{
	const cel_val *a = target != NULL ? target : &args[0];
	cel_val r;

	switch (n->op) {
	case F_SIZE:
		r = vint(0);
		switch (a->kind) {
		case CK_STRING:
			if (!mycel__cel_charge(ctx, 1 + a->v.s.n / 16))
				return ctx->fatal_err;
			r.v.i = (int64_t)utf8_count(a->v.s.p, a->v.s.n);
			break;
		case CK_BYTES:
			r.v.i = (int64_t)a->v.s.n;
			break;
		case CK_LIST:
		case CK_MAP:
			r.v.i = (int64_t)mycel__cel_len(a);
			break;
		default:
			return bad(ctx, n, a);
		}
		r.path = a->path;
		return r;
	case F_CONTAINS:
	case F_STARTS:
	case F_ENDS:
		return str_fn(ctx, n, target, &args[0]);
	case F_MATCHES:
		return target != NULL ? do_matches(ctx, n, target, &args[0])
		                      : do_matches(ctx, n, &args[0], &args[1]);
	default:
		break;
	}
	if (n->op >= F_GET_FULL_YEAR)
		return getter(ctx, n, target, n_args > 0 ? &args[0] : NULL);
	r = conv(ctx, n, a);
	if (r.kind != CK_ERR)
		r.path = a->path;
	return r;
}

/* ---- rendering ---------------------------------------------------------- */

static void put_s(mycel_buf *b, const char *s)
{
	mycel_buf_put(b, s, strlen(s));
}

static void put_quoted(mycel_buf *b, const char *s, size_t n, bool bytes)
{
	char esc[8];
	mycel_buf_put(b, bytes ? "b\"" : "\"", bytes ? 2 : 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			mycel_buf_put(b, esc, 2);
		} else if (c == '\n') {
			put_s(b, "\\n");
		} else if (c == '\t') {
			put_s(b, "\\t");
		} else if (c == '\r') {
			put_s(b, "\\r");
		} else if (c < 0x20 || c == 0x7f || (bytes && c >= 0x80)) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			put_s(b, esc);
		} else {
			mycel_buf_put(b, &s[i], 1);
		}
	}
	mycel_buf_put(b, "\"", 1);
}

int mycel__cel_render(cel_ctx *ctx, const cel_val *v, mycel_buf *b)
{
	char buf[80];
	switch (v->kind) {
	case CK_ERR:
		put_s(b, "error");
		break;
	case CK_NULL:
		put_s(b, "null");
		break;
	case CK_BOOL:
		put_s(b, v->v.b ? "true" : "false");
		break;
	case CK_INT:
		snprintf(buf, sizeof(buf), "%lld", (long long)v->v.i);
		put_s(b, buf);
		break;
	case CK_UINT:
		snprintf(buf, sizeof(buf), "%lluu", (unsigned long long)v->v.u);
		put_s(b, buf);
		break;
	case CK_DOUBLE:
		mycel__cel_fmt_double(v->v.f, buf, sizeof(buf));
		if (strspn(buf, "-0123456789") == strlen(buf))
			strcat(buf, ".0");
		put_s(b, buf);
		break;
	case CK_STRING:
	case CK_BYTES:
		put_quoted(b, v->v.s.p, v->v.s.n, v->kind == CK_BYTES);
		break;
	case CK_TYPE:
		mycel_buf_put(b, v->v.s.p, v->v.s.n);
		break;
	case CK_TS:
		mycel__cel_fmt_ts(v->v.t.sec, v->v.t.ns, buf, sizeof(buf));
		put_s(b, "timestamp(\"");
		put_s(b, buf);
		put_s(b, "\")");
		break;
	case CK_DUR:
		mycel__cel_fmt_dur(v->v.t.sec, v->v.t.ns, buf, sizeof(buf));
		put_s(b, "duration(\"");
		put_s(b, buf);
		put_s(b, "\")");
		break;
	case CK_LIST: {
		size_t n = mycel__cel_len(v);
		put_s(b, "[");
		for (size_t i = 0; i < n && b->err == 0; i++) {
			cel_val x = mycel__cel_list_at(ctx, v, i);
			if (i)
				put_s(b, ", ");
			mycel__cel_render(ctx, &x, b);
		}
		put_s(b, "]");
		break;
	}
	case CK_MAP: {
		size_t n = mycel__cel_len(v);
		put_s(b, "{");
		for (size_t i = 0; i < n && b->err == 0; i++) {
			cel_val k, x;
			mycel__cel_map_entry(ctx, v, i, &k, &x);
			if (i)
				put_s(b, ", ");
			mycel__cel_render(ctx, &k, b);
			put_s(b, ": ");
			mycel__cel_render(ctx, &x, b);
		}
		put_s(b, "}");
		break;
	}
	}
	return b->err;
}
