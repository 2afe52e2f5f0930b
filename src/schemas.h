/* schemas.h — the official ODCS and ODPS JSON Schemas, compiled in (src/schemas/). */
#ifndef MYCEL_SCHEMAS_H
#define MYCEL_SCHEMAS_H

#include <stddef.h>

typedef struct mycel__embedded {
	const char *name;          /* file name, e.g. "odcs-json-schema-v3.2.0.json" */
	const unsigned char *data; /* NUL-terminated */
	size_t len;                /* without the NUL */
} mycel__embedded;

/* Every vendored schema; the last entry has name NULL. */
extern const mycel__embedded mycel__schemas[];

#endif
