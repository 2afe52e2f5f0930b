/*
 * mycel diff OLD NEW [--mode MODE] [--json]: how a data contract changed, each change marked
 * breaking or not under a compatibility mode (mycel/diff.h). Exit 1 if any change is
 * breaking, 0 otherwise, 2 on a usage error; a file that cannot be read, does not parse or is
 * not a valid ODCS contract, or two different contracts, are errors naming the file (exit 1).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/codec.h"
#include "mycel/diag.h"
#include "mycel/diff.h"
#include "mycel/error.h"
#include "mycel/lint.h"

#include "cli_common.h"

static const char use[] = "usage: mycel diff OLD NEW [--mode MODE] [--json]\n"
			  "  MODE: BACKWARD (default), BACKWARD_TRANSITIVE, FORWARD, "
			  "FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE, NONE";

/* Loads and lints one side; on failure prints why, naming the file, and returns 1. */
static int load(const char *path, mycel_arena *a, mycel_value **doc, mycel_docinfo *info)
{
	mycel_diags d;
	mycel_diags_init(&d, 0);
	int rv = mycel_lint_file(path, a, doc, info, &d);
	if (rv == 0 && info->kind != MYCEL_DOC_CONTRACT) {
		fflush(stdout);
		fprintf(stderr, "%s: diff: ", cli_prog);
		safe_str(stderr, path);
		fprintf(stderr, ": not an ODCS data contract (kind %s); diff compares contracts\n",
			info->kind_name ? info->kind_name : "?");
		mycel_diags_fini(&d);
		return EXIT_FAIL;
	}
	if (rv != 0) {
		fflush(stdout);
		for (size_t i = 0; rv != MYCEL_ENOTFOUND && rv != MYCEL_EIO && i < d.len; i++) {
			const mycel_finding *f = &d.items[i];
			safe_str(stderr, path);
			fprintf(stderr, ":%u:%u: %s: ", f->line, f->col, f->pointer[0] ? f->pointer : "/");
			safe_str(stderr, f->message);
			fputc('\n', stderr);
		}
		fprintf(stderr, "%s: diff: ", cli_prog);
		safe_str(stderr, path);
		if (rv == MYCEL_ENOTFOUND || rv == MYCEL_EIO)
			fprintf(stderr, ": cannot read the file (%s)\n", mycel_strerror(rv));
		else if (*doc == NULL)
			fprintf(stderr, ": does not parse (%s)\n", mycel_strerror(rv));
		else
			fprintf(stderr, ": not a valid ODCS data contract (%zu finding%s)\n",
				d.len + d.dropped, d.len + d.dropped == 1 ? "" : "s");
		mycel_diags_fini(&d);
		return EXIT_FAIL;
	}
	mycel_diags_fini(&d);
	return 0;
}

static void json_opt_str(const char *key, const char *s)
{
	printf(",\"%s\":", key);
	if (s != NULL)
		json_str(stdout, s);
	else
		printf("null");
}

static void print_json(const char *oldf, const char *newf, const mycel_docinfo *oi,
		       const mycel_docinfo *ni, const mycel_diff *d, bool bump)
{
	printf("{\"old\":");
	json_str(stdout, oldf);
	printf(",\"new\":");
	json_str(stdout, newf);
	json_opt_str("id", ni->id);
	json_opt_str("old_version", oi->version);
	json_opt_str("new_version", ni->version);
	printf(",\"mode\":\"%s\",\"major_bump\":%s,\"changes\":[", mycel_compat_name(d->mode),
	       bump ? "true" : "false");
	for (size_t i = 0; i < d->len; i++) {
		const mycel_change *c = &d->items[i];
		printf("%s{\"rule\":\"%s\",\"breaking\":%s,\"breaks\":[%s%s%s]", i ? "," : "", c->rule,
		       c->breaking ? "true" : "false",
		       c->breaks & MYCEL_BREAKS_BACKWARD ? "\"backward\"" : "",
		       c->breaks == (MYCEL_BREAKS_BACKWARD | MYCEL_BREAKS_FORWARD) ? "," : "",
		       c->breaks & MYCEL_BREAKS_FORWARD ? "\"forward\"" : "");
		json_opt_str("old_pointer", c->old_pointer);
		if (c->old_pointer != NULL)
			printf(",\"old_line\":%u,\"old_col\":%u", c->old_line, c->old_col);
		json_opt_str("new_pointer", c->new_pointer);
		if (c->new_pointer != NULL)
			printf(",\"new_line\":%u,\"new_col\":%u", c->new_line, c->new_col);
		printf(",\"message\":");
		json_str(stdout, c->message);
		printf("}");
	}
	printf("],\"total\":%zu,\"breaking\":%zu,\"omitted\":%zu}\n", d->len + d->dropped,
	       d->n_breaking, d->dropped);
}

static void pad(size_t have, size_t want)
{
	for (size_t i = have; i < want; i++)
		putchar(' ');
}

static void print_human(const char *oldf, const char *newf, const mycel_docinfo *oi,
			const mycel_docinfo *ni, const mycel_diff *d, bool bump)
{
	size_t wp = 0, wr = 0;
	for (size_t i = 0; i < d->len; i++) {
		const mycel_change *c = &d->items[i];
		const char *p = c->new_pointer ? c->new_pointer : c->old_pointer;
		size_t lp = p ? strlen(p) : 1;
		if (lp > wp)
			wp = lp;
		if (strlen(c->rule) > wr)
			wr = strlen(c->rule);
	}
	for (size_t i = 0; i < d->len; i++) {
		const mycel_change *c = &d->items[i];
		/* the place in NEW, or in OLD for what NEW no longer has */
		const char *p = c->new_pointer ? c->new_pointer : c->old_pointer;
		if (c->breaking)
			printf("%sBREAKING%s    ", c_red(), c_off());
		else
			printf("compatible  ");
		safe_str(stdout, p && p[0] ? p : "/");
		pad(p && p[0] ? strlen(p) : 1, wp + 2);
		printf("%s", c->rule);
		pad(strlen(c->rule), wr + 2);
		safe_str(stdout, c->message);
		putchar('\n');
	}
	if (d->dropped > 0)
		printf("... and %zu more change(s)\n", d->dropped);
	size_t total = d->len + d->dropped;
	safe_str(stdout, oldf);
	printf(" (%s) -> ", oi->version ? oi->version : "?");
	safe_str(stdout, newf);
	printf(" (%s): ", ni->version ? ni->version : "?");
	if (total == 0) {
		printf("no changes\n");
		return;
	}
	printf("%zu change%s, %zu breaking under %s", total, total == 1 ? "" : "s", d->n_breaking,
	       mycel_compat_name(d->mode));
	if (d->n_breaking > 0)
		printf("; %s\n", bump ? "the major version goes up, so they may be published"
				      : "publishing NEW needs a new major version");
	else
		putchar('\n');
}

int cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {{"mode", required_argument, NULL, 'm'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	mycel_compat mode = MYCEL_COMPAT_BACKWARD;
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'm' && mycel_compat_parse(optarg, &mode) == 0)
			continue;
		else if (c == 'm')
			return usage_error("diff", "unknown --mode \"%s\"\n%s", optarg, use);
		else
			return usage_error("diff", "%s", use);
	}
	if (argc - optind != 2)
		return usage_error("diff", "%s", use);
	const char *oldf = argv[optind], *newf = argv[optind + 1];
	mycel_arena *a = NULL;
	mycel_value *od = NULL, *nd = NULL;
	mycel_docinfo oi, ni;
	mycel_diff d;
	char why[300];
	int rv;
	mycel_diff_init(&d, mode, 0);
	if (mycel_arena_new((size_t)1 << 30, &a) != 0) {
		rv = die(EXIT_FAIL, "out of memory");
		goto out;
	}
	if ((rv = load(oldf, a, &od, &oi)) != 0 || (rv = load(newf, a, &nd, &ni)) != 0)
		goto out;
	if (oi.id != NULL && ni.id != NULL && strcmp(oi.id, ni.id) != 0) {
		fflush(stdout);
		fprintf(stderr, "%s: diff: ", cli_prog);
		safe_str(stderr, newf);
		fprintf(stderr, ": a different contract (id ");
		safe_str(stderr, ni.id);
		fprintf(stderr, ") than ");
		safe_str(stderr, oldf);
		fprintf(stderr, " (id ");
		safe_str(stderr, oi.id);
		fprintf(stderr, "); diff compares two versions of one contract\n");
		rv = EXIT_FAIL;
		goto out;
	}
	int r = mycel_diff_contracts(od, nd, why, sizeof(why), &d);
	if (r != 0) {
		rv = die(EXIT_FAIL, "diff %s %s: %s", oldf, newf,
			 r == MYCEL_EINVAL ? why : mycel_strerror(r));
		goto out;
	}
	bool bump = mycel_semver_major_bump(oi.version, ni.version);
	if (json)
		print_json(oldf, newf, &oi, &ni, &d, bump);
	else
		print_human(oldf, newf, &oi, &ni, &d, bump);
	rv = d.n_breaking > 0 ? EXIT_FAIL : 0;
out:
	mycel_diff_fini(&d);
	mycel_arena_free(a);
	return rv;
}
