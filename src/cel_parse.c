/*
 * cel_parse.c — the lexer and recursive-descent parser of the CEL subset
 * (include/mycel/cel.h), following CEL's grammar and precedence:
 *
 *   Expr     = Or ['?' Or ':' Expr]
 *   Or       = And {'||' And}          And = Rel {'&&' Rel}
 *   Rel      = Add {('<'|'<='|'>='|'>'|'=='|'!='|'in') Add}
 *   Add      = Mul {('+'|'-') Mul}     Mul = Unary {('*'|'/'|'%') Unary}
 *   Unary    = Member | '!'+ Member | '-'+ Member
 *   Member   = Primary {'.' IDENT ['(' [Args] ')'] | '[' Expr ']'}
 *   Primary  = ['.'] IDENT ['(' [Args] ')'] | '(' Expr ')' | '[' [Args] [','] ']'
 *            | '{' [Key ':' Expr {',' Key ':' Expr}] [','] '}' | literal
 *
 * Every node and every error carries line:col. The depth of the tree is
 * limited (MYCEL_CEL_DEPTH_MAX) so evaluation recursion is bounded.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel_int.h"
#include "mycel/error.h"

typedef enum tok {
	T_EOF,
	T_INT,
	T_UINT,
	T_DOUBLE,
	T_STRING,
	T_BYTES,
	T_IDENT,
	T_LPAREN,
	T_RPAREN,
	T_LBRACK,
	T_RBRACK,
	T_LBRACE,
	T_RBRACE,
	T_DOT,
	T_COMMA,
	T_COLON,
	T_QUEST,
	T_NOT,
	T_MINUS,
	T_PLUS,
	T_STAR,
	T_SLASH,
	T_PCT,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_EQ,
	T_NE,
	T_AND,
	T_OR,
	T_IN,
} tok;

typedef struct parser {
	const char *src;
	size_t len;
	size_t pos;
	uint32_t line;
	size_t line_start;
	mycel_arena *arena;
	mycel_cel *e;
	/* the current token */
	tok t;
	uint32_t tline, tcol;
	uint64_t tu;    /* T_INT magnitude, T_UINT value */
	double tf;      /* T_DOUBLE */
	const char *ts; /* T_STRING, T_BYTES (decoded), T_IDENT */
	size_t tn;
	int rc; /* first error */
	mycel_cel_err *err;
	int rdepth; /* recursion of parse_expr */
} parser;

static const char *const fn_names[F__COUNT] = {
    [F_SIZE] = "size",
    [F_CONTAINS] = "contains",
    [F_STARTS] = "startsWith",
    [F_ENDS] = "endsWith",
    [F_MATCHES] = "matches",
    [F_INT] = "int",
    [F_UINT] = "uint",
    [F_DOUBLE] = "double",
    [F_STRING] = "string",
    [F_BYTES] = "bytes",
    [F_BOOL] = "bool",
    [F_TYPE] = "type",
    [F_DYN] = "dyn",
    [F_TIMESTAMP] = "timestamp",
    [F_DURATION] = "duration",
    [F_GET_FULL_YEAR] = "getFullYear",
    [F_GET_MONTH] = "getMonth",
    [F_GET_DAY_OF_YEAR] = "getDayOfYear",
    [F_GET_DAY_OF_MONTH] = "getDayOfMonth",
    [F_GET_DATE] = "getDate",
    [F_GET_DAY_OF_WEEK] = "getDayOfWeek",
    [F_GET_HOURS] = "getHours",
    [F_GET_MINUTES] = "getMinutes",
    [F_GET_SECONDS] = "getSeconds",
    [F_GET_MILLISECONDS] = "getMilliseconds",
};

const char *mycel__cel_fn_name(int fn)
{
	return fn >= 0 && fn < F__COUNT ? fn_names[fn] : "?";
}

/* The function called name, -1 if the subset has none (receiver: called as x.name()). */
int mycel__cel_fn_lookup(const char *name, size_t n, bool receiver)
{
	for (int i = 0; i < F__COUNT; i++) {
		if (strlen(fn_names[i]) != n || memcmp(fn_names[i], name, n) != 0)
			continue;
		if (receiver && i >= F_INT && i <= F_DURATION)
			return -1;
		if (!receiver && i >= F_CONTAINS && i <= F_ENDS)
			return -1;
		if (!receiver && i >= F_GET_FULL_YEAR)
			return -1;
		return i;
	}
	return -1;
}

__attribute__((format(printf, 4, 5))) static void perr(parser *p, uint32_t line, uint32_t col,
                                                       const char *fmt, ...)
{
	va_list ap;

	if (p->rc != 0)
		return;
	p->rc = MYCEL_EEXPR;
	if (p->err != NULL) {
		p->err->line = line;
		p->err->col = col;
		p->err->pointer[0] = '\0';
		va_start(ap, fmt);
		vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
		va_end(ap);
	}
}

static void nomem(parser *p)
{
	if (p->rc == 0) {
		perr(p, p->tline, p->tcol, "out of memory");
		p->rc = MYCEL_ENOMEM;
	}
}

/* ---- lexer ------------------------------------------------------------- */

static int peekc(const parser *p, size_t k)
{
	return p->pos + k < p->len ? (unsigned char)p->src[p->pos + k] : -1;
}

static void advance(parser *p, size_t k)
{
	for (size_t i = 0; i < k && p->pos < p->len; i++) {
		if (p->src[p->pos] == '\n') {
			p->line++;
			p->line_start = p->pos + 1;
		}
		p->pos++;
	}
}

static uint32_t cur_col(const parser *p)
{
	return (uint32_t)(p->pos - p->line_start + 1);
}

static bool is_ident_start(int c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Lexes a quoted literal at p->pos (the opening quote), raw or bytes as the
 * prefix said. The decoded text goes into the arena; it is never longer than
 * the literal's text (each escape yields at most as many bytes as it has
 * characters), so the allocation is bounded by the literal, not the source.
 */
static void lex_string(parser *p, bool raw, bool bytes)
{
	uint32_t line = p->tline, col = p->tcol;
	int q = peekc(p, 0);
	bool triple = peekc(p, 1) == q && peekc(p, 2) == q;
	size_t k = triple ? 3 : 1;

	while (p->pos + k < p->len) {
		int c = peekc(p, k);
		if (c == '\\' && !raw) {
			k += 2;
			continue;
		}
		if (c == q && (!triple || (peekc(p, k + 1) == q && peekc(p, k + 2) == q)))
			break;
		k++;
	}
	char *o = mycel_arena_alloc(p->arena, k + 1);
	size_t n = 0;

	if (o == NULL) {
		nomem(p);
		return;
	}
	advance(p, triple ? 3 : 1);
	for (;;) {
		int c = peekc(p, 0);

		if (c < 0) {
			perr(p, line, col, "unterminated %s literal", bytes ? "bytes" : "string");
			return;
		}
		if (c == q && (!triple || (peekc(p, 1) == q && peekc(p, 2) == q))) {
			advance(p, triple ? 3 : 1);
			break;
		}
		if ((c == '\n' || c == '\r') && !triple) {
			perr(p, p->line, cur_col(p),
			     "newline in a %s literal (use \\n or a triple-quoted literal)",
			     bytes ? "bytes" : "string");
			return;
		}
		if (c != '\\' || raw) {
			o[n++] = (char)c;
			advance(p, 1);
			continue;
		}
		/* an escape */
		uint32_t eline = p->line, ecol = cur_col(p);
		int e = peekc(p, 1);
		uint32_t cp = 0;
		int digits = 0, base = 16;
		switch (e) {
		case 'a':
			o[n++] = '\a';
			advance(p, 2);
			continue;
		case 'b':
			o[n++] = '\b';
			advance(p, 2);
			continue;
		case 'f':
			o[n++] = '\f';
			advance(p, 2);
			continue;
		case 'n':
			o[n++] = '\n';
			advance(p, 2);
			continue;
		case 'r':
			o[n++] = '\r';
			advance(p, 2);
			continue;
		case 't':
			o[n++] = '\t';
			advance(p, 2);
			continue;
		case 'v':
			o[n++] = '\v';
			advance(p, 2);
			continue;
		case '\\':
		case '\'':
		case '"':
		case '`':
		case '?':
			o[n++] = (char)e;
			advance(p, 2);
			continue;
		case 'x':
		case 'X':
			digits = 2;
			break;
		case 'u':
			digits = 4;
			break;
		case 'U':
			digits = 8;
			break;
		default:
			if (e >= '0' && e <= '3') {
				digits = 3;
				base = 8;
				break;
			}
			perr(p, eline, ecol, "invalid escape sequence '\\%c'",
			     e >= 0x20 && e < 0x7f ? e : '?');
			return;
		}
		if (bytes && (e == 'u' || e == 'U')) {
			perr(p, eline, ecol, "\\%c escape in a bytes literal", e);
			return;
		}
		size_t at = base == 8 ? 1 : 2;
		for (int i = 0; i < digits; i++) {
			int d = peekc(p, at + (size_t)i);
			int v = base == 8 ? (d >= '0' && d <= '7' ? d - '0' : -1) : hexval(d);
			if (v < 0) {
				perr(p, eline, ecol, "escape sequence needs %d %s digits", digits,
				     base == 8 ? "octal" : "hex");
				return;
			}
			cp = cp * (uint32_t)base + (uint32_t)v;
		}
		advance(p, at + (size_t)digits);
		if (bytes) {
			o[n++] = (char)cp; /* \x and octal: one byte */
			continue;
		}
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
			perr(p, eline, ecol, "escape sequence is not a Unicode scalar value");
			return;
		}
		n += put_utf8(o + n, cp);
	}
	o[n] = '\0';
	if (!bytes && !mycel_utf8_valid((const uint8_t *)o, n)) {
		perr(p, line, col, "string literal is not valid UTF-8");
		return;
	}
	p->t = bytes ? T_BYTES : T_STRING;
	p->ts = o;
	p->tn = n;
}

static void lex_number(parser *p)
{
	size_t start = p->pos;
	bool is_float = false;

	if (peekc(p, 0) == '0' && (peekc(p, 1) == 'x' || peekc(p, 1) == 'X')) {
		uint64_t v = 0;
		size_t k = 2;
		bool over = false;
		if (hexval(peekc(p, 2)) < 0) {
			perr(p, p->tline, p->tcol, "hex literal needs digits");
			return;
		}
		while (hexval(peekc(p, k)) >= 0) {
			if (v > UINT64_MAX / 16)
				over = true;
			v = v * 16 + (uint64_t)hexval(peekc(p, k));
			k++;
		}
		advance(p, k);
		p->tu = v;
		p->t = T_INT;
		if (peekc(p, 0) == 'u' || peekc(p, 0) == 'U') {
			advance(p, 1);
			p->t = T_UINT;
		}
		if (over)
			perr(p, p->tline, p->tcol, "integer literal out of range");
		return;
	}
	while (is_digit(peekc(p, 0)))
		advance(p, 1);
	if (peekc(p, 0) == '.' && is_digit(peekc(p, 1))) {
		is_float = true;
		advance(p, 1);
		while (is_digit(peekc(p, 0)))
			advance(p, 1);
	}
	if ((peekc(p, 0) == 'e' || peekc(p, 0) == 'E') &&
	    (is_digit(peekc(p, 1)) ||
	     ((peekc(p, 1) == '+' || peekc(p, 1) == '-') && is_digit(peekc(p, 2))))) {
		is_float = true;
		advance(p, 2);
		while (is_digit(peekc(p, 0)))
			advance(p, 1);
	}
	char buf[512];
	size_t n = p->pos - start;
	if (n >= sizeof(buf)) {
		perr(p, p->tline, p->tcol, "numeric literal is too long");
		return;
	}
	memcpy(buf, p->src + start, n);
	buf[n] = '\0';
	if (is_float) {
		p->t = T_DOUBLE;
		p->tf = strtod(buf, NULL);
		if (!isfinite(p->tf))
			perr(p, p->tline, p->tcol, "double literal out of range");
		return;
	}
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(buf[i] - '0');
		if (v > (UINT64_MAX - d) / 10) {
			perr(p, p->tline, p->tcol, "integer literal out of range");
			return;
		}
		v = v * 10 + d;
	}
	p->tu = v;
	p->t = T_INT;
	if (peekc(p, 0) == 'u' || peekc(p, 0) == 'U') {
		advance(p, 1);
		p->t = T_UINT;
	}
}

static void next(parser *p)
{
	if (p->rc != 0) {
		p->t = T_EOF;
		return;
	}
	for (;;) {
		int c = peekc(p, 0);
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			advance(p, 1);
		} else if (c == '/' && peekc(p, 1) == '/') {
			while (peekc(p, 0) >= 0 && peekc(p, 0) != '\n')
				advance(p, 1);
		} else {
			break;
		}
	}
	p->tline = p->line;
	p->tcol = cur_col(p);
	int c = peekc(p, 0), d = peekc(p, 1);
	if (c < 0) {
		p->t = T_EOF;
		return;
	}
	if (is_digit(c) || (c == '.' && is_digit(d))) {
		lex_number(p);
		return;
	}
	if (c == '"' || c == '\'') {
		lex_string(p, false, false);
		return;
	}
	if (is_ident_start(c)) {
		/* string prefixes: r, b, rb, br in either case */
		int c0 = c | 0x20, c1 = d | 0x20, c2 = peekc(p, 2);
		if ((c0 == 'r' || c0 == 'b') && (d == '"' || d == '\'')) {
			advance(p, 1);
			lex_string(p, c0 == 'r', c0 == 'b');
			return;
		}
		if (((c0 == 'r' && c1 == 'b') || (c0 == 'b' && c1 == 'r')) &&
		    (c2 == '"' || c2 == '\'')) {
			advance(p, 2);
			lex_string(p, true, true);
			return;
		}
		size_t start = p->pos;
		while (is_ident_start(peekc(p, 0)) || is_digit(peekc(p, 0)))
			advance(p, 1);
		p->ts = p->src + start;
		p->tn = p->pos - start;
		p->t = p->tn == 2 && memcmp(p->ts, "in", 2) == 0 ? T_IN : T_IDENT;
		return;
	}
	static const struct {
		const char *s;
		tok t;
	} ops[] = {
	    {"<=", T_LE},    {">=", T_GE},    {"==", T_EQ},    {"!=", T_NE},    {"&&", T_AND},
	    {"||", T_OR},    {"(", T_LPAREN}, {")", T_RPAREN}, {"[", T_LBRACK}, {"]", T_RBRACK},
	    {"{", T_LBRACE}, {"}", T_RBRACE}, {".", T_DOT},    {",", T_COMMA},  {":", T_COLON},
	    {"?", T_QUEST},  {"!", T_NOT},    {"-", T_MINUS},  {"+", T_PLUS},   {"*", T_STAR},
	    {"/", T_SLASH},  {"%", T_PCT},    {"<", T_LT},     {">", T_GT},
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].s);
		if (p->pos + n <= p->len && memcmp(p->src + p->pos, ops[i].s, n) == 0) {
			advance(p, n);
			p->t = ops[i].t;
			return;
		}
	}
	if (c >= 0x20 && c < 0x7f)
		perr(p, p->tline, p->tcol, "unexpected character '%c'", c);
	else
		perr(p, p->tline, p->tcol, "unexpected byte 0x%02x", (unsigned)c);
	p->t = T_EOF;
}

/* ---- tree -------------------------------------------------------------- */

static cel_node *mk(parser *p, cel_nkind k, uint32_t line, uint32_t col)
{
	cel_node *n;

	if (p->rc != 0)
		return NULL;
	n = mycel_arena_alloc(p->arena, sizeof(*n));
	if (n == NULL) {
		nomem(p);
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	n->kind = (uint8_t)k;
	n->line = line;
	n->col = col;
	return n;
}

static bool expect(parser *p, tok t, const char *what)
{
	if (p->rc != 0)
		return false;
	if (p->t != t) {
		perr(p, p->tline, p->tcol, "expected %s", what);
		return false;
	}
	next(p);
	return true;
}

static const char *const reserved[] = {
    "as",  "break", "const",   "continue",  "else",   "for", "function", "if",    "import",
    "let", "loop",  "package", "namespace", "return", "var", "void",     "while",
};

static bool is_reserved(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strlen(reserved[i]) == n && memcmp(reserved[i], s, n) == 0)
			return true;
	return false;
}

/* Growing array of node pointers in the arena (a parse never lists more than len items). */
typedef struct nodelist {
	cel_node **v;
	size_t n, cap;
} nodelist;

static void push(parser *p, nodelist *l, cel_node *n)
{
	if (p->rc != 0)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		cel_node **v = mycel_arena_alloc(p->arena, cap * sizeof(*v));
		if (v == NULL) {
			nomem(p);
			return;
		}
		if (l->n)
			memcpy(v, l->v, l->n * sizeof(*v));
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = n;
}

static cel_node *parse_expr(parser *p);

/* Parses `[Expr {',' Expr}] [trailing comma]` up to close. */
static void parse_args(parser *p, nodelist *out, tok close, const char *what, bool trailing)
{
	if (p->t == close) {
		next(p);
		return;
	}
	for (;;) {
		push(p, out, parse_expr(p));
		if (p->rc != 0)
			return;
		if (p->t == T_COMMA) {
			next(p);
			if (trailing && p->t == close) {
				next(p);
				return;
			}
			continue;
		}
		expect(p, close, what);
		return;
	}
}

static cel_node *mk_lit(parser *p, uint32_t line, uint32_t col)
{
	cel_node *n = mk(p, N_LIT, line, col);
	if (n == NULL)
		return NULL;
	switch (p->t) {
	case T_INT:
		if (p->tu > (uint64_t)INT64_MAX) {
			perr(p, line, col,
			     "integer literal out of range (use the u suffix for uint)");
			return NULL;
		}
		n->lit.kind = CK_INT;
		n->lit.v.i = (int64_t)p->tu;
		break;
	case T_UINT:
		n->lit.kind = CK_UINT;
		n->lit.v.u = p->tu;
		break;
	case T_DOUBLE:
		n->lit.kind = CK_DOUBLE;
		n->lit.v.f = p->tf;
		break;
	case T_STRING:
	case T_BYTES:
		n->lit.kind = p->t == T_STRING ? CK_STRING : CK_BYTES;
		n->lit.v.s.p = p->ts;
		n->lit.v.s.n = p->tn;
		break;
	default:
		return NULL;
	}
	next(p);
	return n;
}

static pcre2_code *keep_regex(parser *p, const cel_node *lit)
{
	char why[200];
	pcre2_code *re = mycel__cel_regex(lit->lit.v.s.p, lit->lit.v.s.n, why, sizeof(why));
	pcre2_code **codes;

	if (re == NULL) {
		perr(p, lit->line, lit->col, "%s", why);
		return NULL;
	}
	codes = realloc(p->e->codes, (p->e->n_codes + 1) * sizeof(*codes));
	if (codes == NULL) {
		pcre2_code_free(re);
		nomem(p);
		return NULL;
	}
	p->e->codes = codes;
	codes[p->e->n_codes++] = re;
	return re;
}

/*
 * A call: name(args) or target.name(args), with macros recognised by name and
 * shape. The open parenthesis has been consumed.
 */
static cel_node *parse_call(parser *p, cel_node *target, const char *name, size_t nlen,
                            uint32_t line, uint32_t col)
{
	nodelist args = {0};
	cel_node *n;

	parse_args(p, &args, T_RPAREN, "')' after the arguments", false);
	if (p->rc != 0)
		return NULL;
	if (target == NULL && nlen == 3 && memcmp(name, "has", 3) == 0) {
		if (args.n != 1 || args.v[0]->kind != N_SELECT) {
			perr(p, line, col, "has() needs one field selection, as in has(a.b)");
			return NULL;
		}
		n = mk(p, N_HAS, line, col);
		if (n != NULL) {
			n->a = args.v[0]->a;
			n->name = args.v[0]->name;
			n->name_len = args.v[0]->name_len;
		}
		return n;
	}
	static const struct {
		const char *s;
		cel_macro m;
		size_t nargs;
	} macros[] = {
	    {"all", M_ALL, 2}, {"exists", M_EXISTS, 2},  {"exists_one", M_EXISTS_ONE, 2},
	    {"map", M_MAP, 2}, {"map", M_MAP_FILTER, 3}, {"filter", M_FILTER, 2},
	};
	for (size_t i = 0; target != NULL && i < sizeof(macros) / sizeof(macros[0]); i++) {
		if (strlen(macros[i].s) != nlen || memcmp(macros[i].s, name, nlen) != 0 ||
		    macros[i].nargs != args.n)
			continue;
		if (args.v[0]->kind != N_IDENT || args.v[0]->b != NULL) {
			perr(p, args.v[0]->line, args.v[0]->col,
			     "the first argument of %s() must be a simple variable name",
			     macros[i].s);
			return NULL;
		}
		n = mk(p, N_MACRO, line, col);
		if (n == NULL)
			return NULL;
		n->op = (uint8_t)macros[i].m;
		n->name = args.v[0]->name;
		n->name_len = args.v[0]->name_len;
		n->a = target;
		if (macros[i].m == M_MAP_FILTER) {
			n->c = args.v[1]; /* filter */
			n->b = args.v[2]; /* transform */
		} else {
			n->b = args.v[1];
		}
		return n;
	}
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
		if (strlen(macros[i].s) == nlen && memcmp(macros[i].s, name, nlen) == 0) {
			if (target == NULL)
				perr(p, line, col, "%s() is a macro called on a list or map: l.%s(x, ...)",
				     macros[i].s, macros[i].s);
			else
				perr(p, line, col, "%s() takes %s", macros[i].s,
				     macros[i].m == M_MAP || macros[i].m == M_MAP_FILTER
					 ? "a variable and an expression, with an optional filter "
					   "between them: l.map(x, e) or l.map(x, p, e)"
					 : "a variable and a predicate: l.all(x, p)");
			return NULL;
		}
	}
	int fn = mycel__cel_fn_lookup(name, nlen, target != NULL);
	if (fn < 0) {
		if (target != NULL && mycel__cel_fn_lookup(name, nlen, false) >= 0)
			perr(p, line, col, "%.*s() is called as %.*s(x), not x.%.*s()", (int)nlen,
			     name, (int)nlen, name, (int)nlen, name);
		else if (target == NULL && mycel__cel_fn_lookup(name, nlen, true) >= 0)
			perr(p, line, col, "%.*s() is called as x.%.*s(...)", (int)nlen, name,
			     (int)nlen, name);
		else
			perr(p, line, col, "unknown function '%.*s'", (int)(nlen > 64 ? 64 : nlen),
			     name);
		return NULL;
	}
	size_t lo = 1, hi = 1; /* argument counts, target included */
	switch (fn) {
	case F_MATCHES:
		lo = hi = 2;
		break;
	case F_CONTAINS:
	case F_STARTS:
	case F_ENDS:
		lo = hi = 2;
		break;
	case F_SIZE:
		break;
	default:
		if (fn >= F_GET_FULL_YEAR) {
			lo = 1;
			hi = 2;
		}
	}
	size_t have = args.n + (target != NULL);
	if (have < lo || have > hi) {
		perr(p, line, col, "%s() takes %zu argument%s%s", fn_names[fn],
		     lo - (target != NULL), lo - (target != NULL) == 1 ? "" : "s",
		     hi > lo ? " or a time zone" : "");
		return NULL;
	}
	n = mk(p, N_CALL, line, col);
	if (n == NULL)
		return NULL;
	n->op = (uint8_t)fn;
	n->a = target;
	n->args = args.v;
	n->n_args = args.n;
	if (fn == F_MATCHES) {
		const cel_node *pat = args.v[args.n - 1];
		if (pat->kind == N_LIT && pat->lit.kind == CK_STRING)
			n->re = keep_regex(p, pat);
	}
	return n;
}

static cel_node *parse_primary(parser *p)
{
	uint32_t line = p->tline, col = p->tcol;
	cel_node *n;

	if (p->t == T_DOT) {
		/* a leading dot names the root scope, which is the only scope */
		next(p);
		if (p->t != T_IDENT) {
			perr(p, p->tline, p->tcol, "expected an identifier after '.'");
			return NULL;
		}
	}
	switch (p->t) {
	case T_INT:
	case T_UINT:
	case T_DOUBLE:
	case T_STRING:
	case T_BYTES:
		return mk_lit(p, line, col);
	case T_LPAREN:
		next(p);
		n = parse_expr(p);
		expect(p, T_RPAREN, "')'");
		return n;
	case T_LBRACK: {
		nodelist items = {0};
		next(p);
		parse_args(p, &items, T_RBRACK, "']' or ',' in the list", true);
		n = mk(p, N_LIST, line, col);
		if (n != NULL) {
			n->args = items.v;
			n->n_args = items.n;
		}
		return n;
	}
	case T_LBRACE: {
		nodelist items = {0};
		next(p);
		while (p->rc == 0 && p->t != T_RBRACE) {
			push(p, &items, parse_expr(p));
			expect(p, T_COLON, "':' after the map key");
			push(p, &items, parse_expr(p));
			if (p->t == T_COMMA)
				next(p);
			else if (p->t != T_RBRACE)
				perr(p, p->tline, p->tcol, "expected '}' or ',' in the map");
		}
		expect(p, T_RBRACE, "'}'");
		n = mk(p, N_MAP, line, col);
		if (n != NULL) {
			n->args = items.v;
			n->n_args = items.n;
		}
		return n;
	}
	case T_IDENT: {
		const char *s = p->ts;
		size_t len = p->tn;
		if (is_reserved(s, len)) {
			perr(p, line, col, "'%.*s' is a reserved word", (int)len, s);
			return NULL;
		}
		next(p);
		if (p->t == T_LPAREN) {
			next(p);
			return parse_call(p, NULL, s, len, line, col);
		}
		n = mk(p, N_LIT, line, col);
		if (n == NULL)
			return NULL;
		if (len == 4 && memcmp(s, "true", 4) == 0) {
			n->lit.kind = CK_BOOL;
			n->lit.v.b = true;
		} else if (len == 5 && memcmp(s, "false", 5) == 0) {
			n->lit.kind = CK_BOOL;
		} else if (len == 4 && memcmp(s, "null", 4) == 0) {
			n->lit.kind = CK_NULL;
		} else {
			n->kind = N_IDENT;
			n->name = mycel_arena_strdup(p->arena, s, len);
			n->name_len = len;
			if (n->name == NULL)
				nomem(p);
		}
		if (p->t == T_LBRACE && n->kind == N_IDENT) {
			perr(p, p->tline, p->tcol,
			     "message construction (%.*s{...}) is not in the subset",
			     (int)(len > 64 ? 64 : len), s);
			return NULL;
		}
		return n;
	}
	case T_EOF:
		if (p->rc == 0)
			perr(p, line, col, "unexpected end of expression");
		return NULL;
	default:
		perr(p, line, col, "unexpected token");
		return NULL;
	}
}

static cel_node *parse_member(parser *p)
{
	cel_node *n = parse_primary(p);

	while (p->rc == 0) {
		uint32_t line = p->tline, col = p->tcol;
		if (p->t == T_DOT) {
			if (peekc(p, 0) == '`') {
				/* a quoted field name: a.`content-type` */
				uint32_t fline = p->line, fcol = cur_col(p);
				size_t start = p->pos + 1, end = start;
				while (end < p->len && p->src[end] != '`' && p->src[end] != '\n')
					end++;
				if (end >= p->len || p->src[end] != '`' || end == start) {
					perr(p, fline, fcol,
					     "unterminated or empty `quoted` field name");
					return NULL;
				}
				cel_node *sel = mk(p, N_SELECT, line, col);
				if (sel == NULL)
					return NULL;
				sel->a = n;
				sel->name =
				    mycel_arena_strdup(p->arena, p->src + start, end - start);
				sel->name_len = end - start;
				if (sel->name == NULL)
					nomem(p);
				advance(p, end + 1 - p->pos);
				next(p);
				n = sel;
				continue;
			}
			next(p);
			if (p->t != T_IDENT) {
				perr(p, p->tline, p->tcol, "expected a field name after '.'");
				return NULL;
			}
			const char *s = p->ts;
			size_t len = p->tn;
			uint32_t fline = p->tline, fcol = p->tcol;
			next(p);
			if (p->t == T_LPAREN) {
				next(p);
				n = parse_call(p, n, s, len, fline, fcol);
				continue;
			}
			cel_node *sel = mk(p, N_SELECT, line, col);
			if (sel == NULL)
				return NULL;
			sel->a = n;
			sel->name = mycel_arena_strdup(p->arena, s, len);
			sel->name_len = len;
			if (sel->name == NULL)
				nomem(p);
			n = sel;
		} else if (p->t == T_LBRACK) {
			next(p);
			cel_node *ix = mk(p, N_INDEX, line, col);
			if (ix == NULL)
				return NULL;
			ix->a = n;
			ix->b = parse_expr(p);
			expect(p, T_RBRACK, "']'");
			n = ix;
		} else if (p->t == T_LBRACE) {
			perr(p, line, col, "message construction is not in the subset");
			return NULL;
		} else {
			break;
		}
	}
	return n;
}

static cel_node *parse_unary(parser *p)
{
	uint32_t line = p->tline, col = p->tcol;
	tok t = p->t;
	size_t count = 0;

	if (t != T_NOT && t != T_MINUS)
		return parse_member(p);
	while (p->t == t && p->rc == 0) {
		count++;
		next(p);
	}
	cel_node *n;
	if (t == T_MINUS && (p->t == T_INT || p->t == T_DOUBLE)) {
		/* a negative literal: -9223372036854775808 is an int */
		uint32_t lline = p->tline, lcol = p->tcol;
		if (p->t == T_INT && p->tu > (uint64_t)INT64_MAX + 1) {
			perr(p, lline, lcol, "integer literal out of range");
			return NULL;
		}
		n = mk(p, N_LIT, line, col);
		if (n == NULL)
			return NULL;
		if (p->t == T_INT) {
			n->lit.kind = CK_INT;
			n->lit.v.i = p->tu == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)p->tu;
		} else {
			n->lit.kind = CK_DOUBLE;
			n->lit.v.f = -p->tf;
		}
		next(p);
		count--;
		/* member suffixes apply to the literal before the remaining signs */
		while (p->rc == 0 && (p->t == T_DOT || p->t == T_LBRACK)) {
			perr(p, p->tline, p->tcol, "put the negative literal in parentheses");
			return NULL;
		}
	} else {
		n = parse_member(p);
	}
	for (size_t i = 0; i < count && p->rc == 0; i++) {
		cel_node *u = mk(p, t == T_NOT ? N_NOT : N_NEG, line, col);
		if (u == NULL)
			return NULL;
		u->a = n;
		n = u;
	}
	return n;
}

static cel_node *mk_bin(parser *p, cel_binop op, cel_node *a, cel_node *b, uint32_t line,
                        uint32_t col)
{
	cel_node *n = mk(p, N_BIN, line, col);
	if (n == NULL)
		return NULL;
	n->op = (uint8_t)op;
	n->a = a;
	n->b = b;
	return n;
}

static cel_node *parse_mul(parser *p)
{
	cel_node *n = parse_unary(p);
	while (p->rc == 0 && (p->t == T_STAR || p->t == T_SLASH || p->t == T_PCT)) {
		cel_binop op = p->t == T_STAR ? B_MUL : p->t == T_SLASH ? B_DIV : B_MOD;
		uint32_t line = p->tline, col = p->tcol;
		next(p);
		n = mk_bin(p, op, n, parse_unary(p), line, col);
	}
	return n;
}

static cel_node *parse_add(parser *p)
{
	cel_node *n = parse_mul(p);
	while (p->rc == 0 && (p->t == T_PLUS || p->t == T_MINUS)) {
		cel_binop op = p->t == T_PLUS ? B_ADD : B_SUB;
		uint32_t line = p->tline, col = p->tcol;
		next(p);
		n = mk_bin(p, op, n, parse_mul(p), line, col);
	}
	return n;
}

static cel_node *parse_rel(parser *p)
{
	cel_node *n = parse_add(p);
	for (;;) {
		cel_binop op;
		switch (p->t) {
		case T_LT:
			op = B_LT;
			break;
		case T_LE:
			op = B_LE;
			break;
		case T_GT:
			op = B_GT;
			break;
		case T_GE:
			op = B_GE;
			break;
		case T_EQ:
			op = B_EQ;
			break;
		case T_NE:
			op = B_NE;
			break;
		case T_IN:
			op = B_IN;
			break;
		default:
			return n;
		}
		if (p->rc != 0)
			return n;
		uint32_t line = p->tline, col = p->tcol;
		next(p);
		n = mk_bin(p, op, n, parse_add(p), line, col);
	}
}

/* Or/And chains become one n-ary node. */
static cel_node *parse_logic(parser *p, bool is_or)
{
	cel_node *first = is_or ? parse_logic(p, false) : parse_rel(p);
	tok t = is_or ? T_OR : T_AND;
	nodelist items = {0};

	if (p->t != t || p->rc != 0)
		return first;
	cel_node *n = mk(p, is_or ? N_OR : N_AND, p->tline, p->tcol);
	push(p, &items, first);
	while (p->t == t && p->rc == 0) {
		next(p);
		push(p, &items, is_or ? parse_logic(p, false) : parse_rel(p));
	}
	if (n != NULL) {
		n->args = items.v;
		n->n_args = items.n;
	}
	return n;
}

static cel_node *parse_expr(parser *p)
{
	if (++p->rdepth > MYCEL_CEL_DEPTH_MAX) {
		perr(p, p->tline, p->tcol, "expression nested deeper than %d levels",
		     MYCEL_CEL_DEPTH_MAX);
		return NULL;
	}
	cel_node *n = parse_logic(p, true);
	if (p->t == T_QUEST && p->rc == 0) {
		cel_node *c = mk(p, N_COND, p->tline, p->tcol);
		next(p);
		cel_node *a = parse_logic(p, true);
		expect(p, T_COLON, "':' of the conditional");
		cel_node *b = parse_expr(p);
		if (c != NULL) {
			c->a = n;
			c->b = a;
			c->c = b;
		}
		n = c;
	}
	p->rdepth--;
	return p->rc == 0 ? n : NULL;
}

/* ---- checks after parsing --------------------------------------------- */

static const char *const type_names[] = {
    "int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type",
};

static bool is_type_name(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strlen(type_names[i]) == n && memcmp(type_names[i], s, n) == 0)
			return true;
	return false;
}

typedef struct walk {
	parser *p;
	const char *scope[MYCEL_CEL_DEPTH_MAX];
	size_t n_scope;
	const char **vars;
	size_t n_vars, cap;
} walk;

/* Depth of the tree and the free variables; fails beyond MYCEL_CEL_DEPTH_MAX. */
static int walk_node(walk *w, const cel_node *n, int depth)
{
	if (n == NULL)
		return 0;
	if (depth > MYCEL_CEL_DEPTH_MAX) {
		perr(w->p, n->line, n->col, "expression nested deeper than %d levels",
		     MYCEL_CEL_DEPTH_MAX);
		return -1;
	}
	if (n->kind == N_IDENT) {
		for (size_t i = w->n_scope; i > 0; i--)
			if (strcmp(w->scope[i - 1], n->name) == 0)
				return 0;
		for (size_t i = 0; i < w->n_vars; i++)
			if (strcmp(w->vars[i], n->name) == 0)
				return 0;
		if (is_type_name(n->name, n->name_len))
			return 0;
		if (w->n_vars == w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 8;
			const char **v = mycel_arena_alloc(w->p->arena, cap * sizeof(*v));
			if (v == NULL) {
				nomem(w->p);
				return -1;
			}
			if (w->n_vars)
				memcpy(v, w->vars, w->n_vars * sizeof(*v));
			w->vars = v;
			w->cap = cap;
		}
		w->vars[w->n_vars++] = n->name;
		return 0;
	}
	if (walk_node(w, n->a, depth + 1) != 0)
		return -1;
	if (n->kind == N_MACRO) {
		if (w->n_scope >= MYCEL_CEL_DEPTH_MAX)
			return -1;
		w->scope[w->n_scope++] = n->name;
	}
	int rc = walk_node(w, n->b, depth + 1);
	if (rc == 0)
		rc = walk_node(w, n->c, depth + 1);
	if (n->kind == N_MACRO)
		w->n_scope--;
	for (size_t i = 0; rc == 0 && i < n->n_args; i++)
		rc = walk_node(w, n->args[i], depth + 1);
	return rc;
}

int mycel_cel_compile(const char *src, size_t len, mycel_cel **out, mycel_cel_err *err)
{
	parser p;
	mycel_cel *e = NULL;
	int rc;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (out == NULL || (src == NULL && len > 0))
		return MYCEL_EINVAL;
	if (len > MYCEL_CEL_SRC_MAX) {
		if (err != NULL)
			snprintf(err->msg, sizeof(err->msg),
			         "expression is %zu bytes, more than the %d allowed", len,
			         MYCEL_CEL_SRC_MAX);
		return MYCEL_ETOOBIG;
	}
	if (!mycel_utf8_valid((const uint8_t *)src, len)) {
		if (err != NULL) {
			err->line = 1;
			err->col = 1;
			snprintf(err->msg, sizeof(err->msg), "expression is not valid UTF-8 text");
		}
		return MYCEL_EEXPR;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return MYCEL_ENOMEM;
	rc = mycel_arena_new(len * 512 + 65536, &e->arena);
	if (rc != 0)
		goto fail;
	e->src = mycel_arena_strdup(e->arena, len ? src : "", len);
	if (e->src == NULL) {
		rc = MYCEL_ENOMEM;
		goto fail;
	}
	e->src_len = len;
	memset(&p, 0, sizeof(p));
	p.src = e->src;
	p.len = len;
	p.line = 1;
	p.arena = e->arena;
	p.e = e;
	p.err = err;
	next(&p);
	e->root = parse_expr(&p);
	if (p.rc == 0 && p.t != T_EOF)
		perr(&p, p.tline, p.tcol, "unexpected token after the end of the expression");
	if (p.rc == 0) {
		walk w;
		memset(&w, 0, sizeof(w));
		w.p = &p;
		if (walk_node(&w, e->root, 1) == 0 && p.rc == 0) {
			e->vars = w.vars;
			e->n_vars = w.n_vars;
		}
	}
	rc = p.rc;
	if (rc != 0)
		goto fail;
	*out = e;
	return 0;
fail:
	mycel_cel_free(e);
	return rc;
}

void mycel_cel_free(mycel_cel *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->n_codes; i++)
		pcre2_code_free(e->codes[i]);
	free(e->codes);
	mycel_arena_free(e->arena);
	free(e);
}

size_t mycel_cel_free_vars(const mycel_cel *e, const char **names, size_t max)
{
	if (e == NULL)
		return 0;
	for (size_t i = 0; i < e->n_vars && i < max; i++)
		names[i] = e->vars[i];
	return e->n_vars;
}
