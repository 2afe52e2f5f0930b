/* diag.c — bounded lists of findings. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/diag.h"
#include "mycel/error.h"

void mycel_diags_init(mycel_diags *d, size_t max)
{
	memset(d, 0, sizeof(*d));
	d->max = max ? max : 1000;
}

void mycel_diags_clear(mycel_diags *d)
{
	for (size_t i = 0; i < d->len; i++) {
		free(d->items[i].pointer);
		free(d->items[i].message);
	}
	d->len = 0;
	d->dropped = 0;
}

void mycel_diags_fini(mycel_diags *d)
{
	if (d == NULL)
		return;
	mycel_diags_clear(d);
	free(d->items);
	d->items = NULL;
	d->cap = 0;
}

int mycel_diags_add(mycel_diags *d, uint32_t line, uint32_t col, const char *pointer,
		    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	if (d->len >= d->max) {
		d->dropped++;
		return 0;
	}
	if (d->len == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 8;
		mycel_finding *p = realloc(d->items, cap * sizeof(*p));
		if (p == NULL)
			return MYCEL_ENOMEM;
		d->items = p;
		d->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mycel_finding *f = &d->items[d->len];
	f->line = line;
	f->col = col;
	f->pointer = strdup(pointer ? pointer : "");
	f->message = strdup(msg);
	if (f->pointer == NULL || f->message == NULL) {
		free(f->pointer);
		free(f->message);
		return MYCEL_ENOMEM;
	}
	d->len++;
	return 0;
}

void mycel_pointer_push(char *ptr, size_t n, const char *key, size_t key_len)
{
	size_t at = strlen(ptr);
	if (at + 1 >= n)
		return;
	ptr[at++] = '/';
	for (size_t i = 0; i < key_len && at + 2 < n; i++) {
		if (key[i] == '~') {
			ptr[at++] = '~';
			ptr[at++] = '0';
		} else if (key[i] == '/') {
			ptr[at++] = '~';
			ptr[at++] = '1';
		} else {
			ptr[at++] = key[i];
		}
	}
	ptr[at] = '\0';
}
