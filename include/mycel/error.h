/*
 * mycel/error.h — error codes shared by every libmycel function.
 *
 * Functions return 0 on success and a negative MYCEL_E... code on failure.
 * mycel_strerror() maps each code to a sentence; mycel_errname() to the
 * code's short name ("ENONCANON"), which golden vectors and logs use.
 */
#ifndef MYCEL_ERROR_H
#define MYCEL_ERROR_H

/* X(name, value, sentence) — the single table both the enum and the strings come from. */
#define MYCEL_ERRORS(X)                                                                   \
	X(EINVAL, 1, "invalid argument")                                                  \
	X(ENOMEM, 2, "out of memory")                                                     \
	X(ETOOBIG, 3, "input exceeds a size limit")                                       \
	X(ETRUNC, 4, "input is truncated")                                                \
	X(ETRAILING, 5, "trailing bytes after the value")                                 \
	X(ENONCANON, 6, "non-canonical encoding (a shorter form exists)")                 \
	X(EDEPTH, 7, "nesting deeper than 32 levels")                                     \
	X(EUTF8, 8, "string is not valid UTF-8")                                          \
	X(EFLOAT, 9, "float32, NaN or infinity is not allowed")                           \
	X(EKEYORDER, 10, "map keys are not sorted bytewise or are duplicated")            \
	X(EKEYTYPE, 11, "map key is not a string")                                        \
	X(EUNSUPPORTED, 12, "unsupported type (ext, or the reserved byte 0xc1)")          \
	X(ETYPE, 13, "value has the wrong type")                                          \
	X(EFORMAT, 14, "value does not have the required structure")                      \
	X(EVERSION, 15, "unsupported format version")                                     \
	X(EBADSIG, 16, "signature does not verify")                                       \
	X(ECHAIN, 17, "chain link broken (seq or prev does not follow)")                  \
	X(EHASH, 18, "body does not match the entry's body hash")                         \
	X(ETS, 19, "timestamp goes backwards along the feed")                             \
	X(EADMIT, 20, "feed is not admitted by the charter")                              \
	X(EFORK, 21, "a different entry exists at the same feed and seq (fork)")          \
	X(ETHRESHOLD, 22, "not enough valid signatures to reach the threshold")           \
	X(ECHARTER, 23, "invalid charter")                                                \
	X(ENOTFOUND, 24, "not found")                                                     \
	X(EEXIST, 25, "already exists")                                                   \
	X(EIO, 26, "input/output error")                                                  \
	X(ESTORE, 27, "store (LMDB) error")                                               \
	X(EKEYFILE, 28, "key file is unreadable, malformed or not private (mode 0600)")   \
	X(EPERM, 29, "permission denied")                                                 \
	X(EBUSY, 30, "resource is busy")                                                  \
	X(ECORRUPT, 31, "stored data is inconsistent")                                   \
	X(ESCHEMA, 32, "document does not conform to its schema")                         \
	X(EPOLICY, 33, "refused by a charter policy")                                     \
	X(EEXPR, 34, "invalid policy expression")                                         \
	X(EEVAL, 35, "policy expression failed to evaluate")                              \
	X(EBREAKING, 36, "breaking contract change without a new major version")          \
	X(EREVOKED, 37, "feed removed or its key declared compromised by the charter")    \
	X(EBUNDLE, 38, "invalid audit bundle")

enum {
	MYCEL_OK = 0,
#define MYCEL__ERRENUM(name, val, str) MYCEL_##name = -(val),
	MYCEL_ERRORS(MYCEL__ERRENUM)
#undef MYCEL__ERRENUM
};

/* A sentence describing err (0 or a MYCEL_E... code); never NULL. */
const char *mycel_strerror(int err);

/* The code's short name without the MYCEL_ prefix ("ETRUNC"); "OK" for 0, "E?" if unknown. */
const char *mycel_errname(int err);

/* The code whose short name is name ("ETRUNC"), or 1 if there is none. */
int mycel_errcode(const char *name);

#endif
