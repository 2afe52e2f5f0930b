/* error.c — the error table of mycel/error.h. */
#include <string.h>

#include "mycel/error.h"

static const struct {
	int code;
	const char *name;
	const char *str;
} errtab[] = {
#define MYCEL__ERRTAB(name, val, str) {-(val), #name, str},
	MYCEL_ERRORS(MYCEL__ERRTAB)
#undef MYCEL__ERRTAB
};

const char *mycel_strerror(int err)
{
	if (err == 0)
		return "success";
	for (size_t i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].code == err)
			return errtab[i].str;
	return "unknown error";
}

const char *mycel_errname(int err)
{
	if (err == 0)
		return "OK";
	for (size_t i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].code == err)
			return errtab[i].name;
	return "E?";
}

int mycel_errcode(const char *name)
{
	if (strcmp(name, "OK") == 0)
		return 0;
	for (size_t i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (strcmp(errtab[i].name, name) == 0)
			return errtab[i].code;
	return 1;
}
