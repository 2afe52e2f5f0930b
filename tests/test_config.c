/*
 * test_config.c — the node configuration file (include/mycel/config.h).
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mycel/config.h"
#include "mycel/error.h"

static int parse(const char *text, const char *base, mycel_node_config *c, mycel_diags *d)
{
	return mycel_node_config_parse(text, strlen(text), base, c, d);
}

/* The finding whose message contains needle, or NULL. */
static const mycel_finding *find(const mycel_diags *d, const char *needle)
{
	for (size_t i = 0; i < d->len; i++)
		if (strstr(d->items[i].message, needle) != NULL)
			return &d->items[i];
	return NULL;
}

static void test_full(void **state)
{
	(void)state;
	const char *text = "# a node\n"
			   "data: sales\n"
			   "listen: tcp://127.0.0.1:7401\n"
			   "admin: ipc://run/admin.sock\n"
			   "events: tcp://127.0.0.1:7402\n"
			   "workers: 8\n"
			   "admin_workers: 2\n"
			   "log_level: warn\n"
			   "peers:\n"
			   "  - tcp://10.0.0.2:7401\n"
			   "  - tcp://[::1]:7401\n";
	mycel_node_config c;
	mycel_diags d;
	mycel_diags_init(&d, 0);
	assert_int_equal(parse(text, "/etc/mycel", &c, &d), 0);
	assert_int_equal(d.len, 0);
	assert_string_equal(c.data, "/etc/mycel/sales");
	assert_string_equal(c.listen, "tcp://127.0.0.1:7401");
	assert_string_equal(c.admin, "ipc:///etc/mycel/run/admin.sock");
	assert_string_equal(c.events, "tcp://127.0.0.1:7402");
	assert_int_equal(c.workers, 8);
	assert_int_equal(c.admin_workers, 2);
	assert_int_equal(c.log_level, MYCEL_NODE_WARN);
	assert_int_equal(c.n_peers, 2);
	assert_string_equal(c.peers[0], "tcp://10.0.0.2:7401");
	assert_string_equal(c.peers[1], "tcp://[::1]:7401");
	mycel_node_config_fini(&c);
	assert_null(c.data);
	assert_int_equal(c.log_level, -1);

	/* Absolute paths stay as written; no base directory leaves relative ones alone. */
	assert_int_equal(parse("data: /srv/x\nadmin: ipc:///tmp/a.sock\n", "/etc", &c, &d), 0);
	assert_string_equal(c.data, "/srv/x");
	assert_string_equal(c.admin, "ipc:///tmp/a.sock");
	mycel_node_config_fini(&c);
	assert_int_equal(parse("data: rel\n", NULL, &c, &d), 0);
	assert_string_equal(c.data, "rel");
	mycel_node_config_fini(&c);
	mycel_diags_fini(&d);
}

static void test_empty(void **state)
{
	(void)state;
	mycel_node_config c;
	mycel_diags d;
	mycel_diags_init(&d, 0);
	assert_int_equal(parse("", NULL, &c, &d), 0);
	assert_null(c.data);
	assert_null(c.listen);
	assert_int_equal(c.workers, 0);
	assert_int_equal(c.log_level, -1);
	assert_int_equal(c.n_peers, 0);
	mycel_node_config_fini(&c);
	assert_int_equal(parse("# only a comment\n", NULL, &c, &d), 0);
	mycel_node_config_fini(&c);
	mycel_diags_fini(&d);
}

/* Every problem of one file is reported in one run, each at its line and column, and the
 * output is left untouched. */
static void test_errors_all_at_once(void **state)
{
	(void)state;
	const char *text = "listn: tcp://127.0.0.1:1\n"        /* 1: unknown, near listen */
			   "listen: http://127.0.0.1:1\n"     /* 2: scheme */
			   "admin: tcp://127.0.0.1:2\n"       /* 3: admin must be ipc */
			   "workers: 0\n"                     /* 4: range */
			   "admin_workers: 1000\n"            /* 5: range */
			   "log_level: loud\n"                /* 6: level */
			   "data: [a]\n"                      /* 7: type */
			   "peers:\n"                         /* 8 */
			   "  - tcp://h:1\n"                  /* 9 */
			   "  - tcp://h:1\n"                  /* 10: duplicate */
			   "  - 42\n"                         /* 11: type */
			   "frobnicate: 1\n";                 /* 12: unknown, nothing near */
	mycel_node_config c;
	memset(&c, 0xA5, sizeof(c));
	mycel_node_config before = c;
	mycel_diags d;
	mycel_diags_init(&d, 0);
	assert_int_equal(parse(text, NULL, &c, &d), MYCEL_EFORMAT);
	assert_memory_equal(&c, &before, sizeof(c));

	const mycel_finding *f;
	assert_non_null(f = find(&d, "unknown key \"listn\" (did you mean \"listen\"?)"));
	assert_int_equal(f->line, 1);
	assert_string_equal(f->pointer, "/listn");
	assert_non_null(f = find(&d, "\"http://127.0.0.1:1\" is not a tcp:// or ipc:// URL"));
	assert_int_equal(f->line, 2);
	assert_int_equal(f->col, 9);
	assert_non_null(f = find(&d, "is not an ipc:// URL"));
	assert_int_equal(f->line, 3);
	assert_non_null(f = find(&d, "must be an integer from 1 to 256"));
	assert_int_equal(f->line, 4);
	assert_string_equal(f->pointer, "/workers");
	assert_non_null(f = find(&d, "must be an integer from 1 to 256"));
	bool line5 = false;
	for (size_t i = 0; i < d.len; i++)
		line5 |= d.items[i].line == 5 && strcmp(d.items[i].pointer, "/admin_workers") == 0;
	assert_true(line5);
	assert_non_null(f = find(&d, "\"loud\" is not a log level"));
	assert_int_equal(f->line, 6);
	assert_non_null(f = find(&d, "must be a string, not array"));
	assert_int_equal(f->line, 7);
	assert_string_equal(f->pointer, "/data");
	assert_non_null(f = find(&d, "peer \"tcp://h:1\" is listed twice"));
	assert_int_equal(f->line, 10);
	assert_string_equal(f->pointer, "/peers/1");
	assert_non_null(f = find(&d, "must be a string, not uint"));
	assert_string_equal(f->pointer, "/peers/2");
	assert_non_null(f = find(&d, "unknown key \"frobnicate\""));
	assert_null(strstr(f->message, "did you mean"));
	assert_int_equal(f->line, 12);
	mycel_diags_fini(&d);
}

static void test_shapes(void **state)
{
	(void)state;
	mycel_node_config c;
	mycel_diags d;
	mycel_diags_init(&d, 0);

	/* Not a map. */
	assert_int_equal(parse("- a\n- b\n", NULL, &c, &d), MYCEL_EFORMAT);
	assert_non_null(find(&d, "must be a map of settings"));
	mycel_diags_clear(&d);

	/* YAML that does not parse, and a duplicate key: the loader's own findings. */
	assert_int_equal(parse("listen: [\n", NULL, &c, &d), MYCEL_EFORMAT);
	assert_true(d.len > 0 && d.items[0].line > 0);
	mycel_diags_clear(&d);
	assert_int_equal(parse("workers: 1\nworkers: 2\n", NULL, &c, &d), MYCEL_EFORMAT);
	assert_true(d.len > 0 && d.items[0].line == 2);
	mycel_diags_clear(&d);

	/* peers must be a list; a scheme alone is not a URL; too long a URL. */
	assert_int_equal(parse("peers: tcp://h:1\n", NULL, &c, &d), MYCEL_EFORMAT);
	assert_non_null(find(&d, "must be a list of tcp:// URLs"));
	mycel_diags_clear(&d);
	assert_int_equal(parse("listen: 'tcp://'\n", NULL, &c, &d), MYCEL_EFORMAT);
	mycel_diags_clear(&d);
	char big[MYCEL_NODE_URL_MAX + 64];
	int k = snprintf(big, sizeof(big), "listen: tcp://");
	memset(big + k, 'h', MYCEL_NODE_URL_MAX);
	big[k + MYCEL_NODE_URL_MAX] = '\0';
	strcat(big, ":1\n");
	assert_int_equal(parse(big, NULL, &c, &d), MYCEL_EFORMAT);
	assert_non_null(find(&d, "URL is longer than"));
	mycel_diags_clear(&d);

	/* Text over the size limit is refused before parsing. */
	size_t n = MYCEL_CONFIG_BYTES_MAX + 1;
	char *huge = malloc(n);
	assert_non_null(huge);
	memset(huge, '#', n);
	assert_int_equal(mycel_node_config_parse(huge, n, NULL, &c, &d), MYCEL_ETOOBIG);
	free(huge);
	mycel_diags_fini(&d);
}

static void test_load(void **state)
{
	(void)state;
	char dir[] = "/tmp/mycel-config-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char sub[256], path[PATH_MAX], expect[PATH_MAX + 16];
	(void)snprintf(sub, sizeof(sub), "%s/etc", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	(void)snprintf(path, sizeof(path), "%s/node.yaml", sub);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("data: ../store\nlog_level: debug\n", f);
	fclose(f);

	mycel_node_config c;
	mycel_diags d;
	mycel_diags_init(&d, 0);
	assert_int_equal(mycel_node_config_load(path, &c, &d), 0);
	(void)snprintf(expect, sizeof(expect), "%s/../store", sub);
	assert_string_equal(c.data, expect);
	assert_int_equal(c.log_level, MYCEL_NODE_DEBUG);
	mycel_node_config_fini(&c);

	/* Relative to the file, not to the current directory. */
	char cwd[PATH_MAX];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(sub), 0);
	assert_int_equal(mycel_node_config_load("node.yaml", &c, &d), 0);
	assert_string_equal(c.data, expect);
	mycel_node_config_fini(&c);
	assert_int_equal(chdir(cwd), 0);

	(void)snprintf(path, sizeof(path), "%s/missing.yaml", sub);
	assert_int_equal(mycel_node_config_load(path, &c, &d), MYCEL_ENOTFOUND);
	assert_non_null(find(&d, "no such file"));

	(void)snprintf(path, sizeof(path), "%s/node.yaml", sub);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(dir), 0);
	mycel_diags_fini(&d);
}

static void test_levels(void **state)
{
	(void)state;
	mycel_node_level lv;
	assert_int_equal(mycel_node_level_parse("debug", &lv), 0);
	assert_int_equal(lv, MYCEL_NODE_DEBUG);
	assert_int_equal(mycel_node_level_parse("error", &lv), 0);
	assert_int_equal(lv, MYCEL_NODE_ERROR);
	assert_int_equal(mycel_node_level_parse("INFO", &lv), MYCEL_EINVAL);
	assert_int_equal(mycel_node_level_parse(NULL, &lv), MYCEL_EINVAL);
}

/* The gossip section: every key read, absent ones left zero (the defaults). */
static void test_gossip(void **state)
{
	(void)state;
	const char *text = "gossip:\n"
			   "  interval_ms: 250\n"
			   "  fanout: 5\n"
			   "  push: false\n"
			   "  max_hops: 8\n"
			   "  batch_entries: 100\n"
			   "  batch_bytes: 65536\n"
			   "  rpc_timeout_ms: 500\n"
			   "  backoff_max_ms: 10000\n"
			   "  reject_limit: 7\n"
			   "  ignore_ms: 60000\n"
			   "  verify_threads: 2\n"
			   "  enabled: true\n";
	mycel_node_config c;
	mycel_diags d;
	mycel_diags_init(&d, 0);
	assert_int_equal(parse(text, NULL, &c, &d), 0);
	assert_int_equal(c.gossip.interval_ms, 250);
	assert_int_equal(c.gossip.fanout, 5);
	assert_true(c.gossip.no_push);
	assert_false(c.gossip.off);
	assert_int_equal(c.gossip.max_hops, 8);
	assert_int_equal(c.gossip.batch_entries, 100);
	assert_int_equal(c.gossip.batch_bytes, 65536);
	assert_int_equal(c.gossip.rpc_timeout_ms, 500);
	assert_int_equal(c.gossip.backoff_max_ms, 10000);
	assert_int_equal(c.gossip.reject_limit, 7);
	assert_int_equal(c.gossip.ignore_ms, 60000);
	assert_int_equal(c.gossip.verify_threads, 2);
	assert_int_equal(mycel_gossip_opts_check(&c.gossip, NULL, 0), 0);
	mycel_node_config_fini(&c);

	/* absent: zero, which the node reads as the defaults */
	assert_int_equal(parse("gossip:\n  enabled: false\n", NULL, &c, &d), 0);
	assert_true(c.gossip.off);
	assert_int_equal(c.gossip.interval_ms, 0);
	mycel_gossip_opts r;
	mycel_gossip_opts_resolve(&c.gossip, &r);
	assert_int_equal(r.interval_ms, MYCEL_GOSSIP_INTERVAL_MS_DEFAULT);
	assert_int_equal(r.fanout, MYCEL_GOSSIP_FANOUT_DEFAULT);
	assert_int_equal(r.max_hops, MYCEL_GOSSIP_MAX_HOPS_DEFAULT);
	assert_int_equal(r.batch_entries, MYCEL_GOSSIP_BATCH_ENTRIES_DEFAULT);
	assert_int_equal(r.rpc_timeout_ms, MYCEL_GOSSIP_RPC_TIMEOUT_MS_DEFAULT);
	assert_int_equal(r.reject_limit, MYCEL_GOSSIP_REJECT_LIMIT_DEFAULT);
	assert_int_equal(r.ignore_ms, MYCEL_GOSSIP_IGNORE_MS_DEFAULT);
	assert_true(r.verify_threads >= 1);
	mycel_node_config_fini(&c);

	/* every problem of the section at once, each at its line, nothing returned */
	const char *bad = "gossip:\n"
			  "  intervl_ms: 100\n"     /* 2: unknown, near interval_ms */
			  "  fanout: 0\n"           /* 3: range */
			  "  push: yes please\n"    /* 4: type */
			  "  batch_entries: 5000\n" /* 5: range */
			  "  rpc_timeout_ms: -1\n"  /* 6: type/range */
			  "  zzz: 1\n";             /* 7: unknown, nothing near */
	memset(&c, 0xA5, sizeof(c));
	mycel_node_config before = c;
	assert_int_equal(parse(bad, NULL, &c, &d), MYCEL_EFORMAT);
	assert_memory_equal(&c, &before, sizeof(c));
	const mycel_finding *f;
	assert_non_null(
	    f = find(&d, "unknown gossip key \"intervl_ms\" (did you mean \"interval_ms\"?)"));
	assert_int_equal(f->line, 2);
	assert_string_equal(f->pointer, "/gossip/intervl_ms");
	assert_non_null(f = find(&d, "must be an integer from 1 to 64"));
	assert_int_equal(f->line, 3);
	assert_string_equal(f->pointer, "/gossip/fanout");
	assert_non_null(f = find(&d, "must be true or false"));
	assert_int_equal(f->line, 4);
	assert_non_null(f = find(&d, "must be an integer from 1 to 1000"));
	assert_int_equal(f->line, 5);
	assert_non_null(f = find(&d, "must be an integer from 10 to 600000"));
	assert_int_equal(f->line, 6);
	assert_string_equal(f->pointer, "/gossip/rpc_timeout_ms");
	assert_non_null(f = find(&d, "unknown gossip key \"zzz\""));
	assert_null(strstr(f->message, "did you mean"));
	assert_int_equal(f->line, 7);
	mycel_diags_clear(&d);

	assert_int_equal(parse("peers:\n  - tcp://0.0.0.0:7401\n", NULL, &c, &d), MYCEL_EFORMAT);
	assert_non_null(f = find(&d, "names no host"));
	assert_string_equal(f->pointer, "/peers/0");
	mycel_diags_clear(&d);
	assert_int_equal(parse("gossip: 3\n", NULL, &c, &d), MYCEL_EFORMAT);
	assert_non_null(f = find(&d, "must be a map of gossip settings"));
	assert_string_equal(f->pointer, "/gossip");
	mycel_diags_clear(&d);
	/* the top-level suggestion knows the section */
	assert_int_equal(parse("gosip:\n  fanout: 2\n", NULL, &c, &d), MYCEL_EFORMAT);
	assert_non_null(find(&d, "(did you mean \"gossip\"?)"));
	mycel_diags_fini(&d);

	/* the node's own check: the same ranges for programs that fill the options */
	mycel_gossip_opts o;
	memset(&o, 0, sizeof(o));
	char why[128];
	o.fanout = 65;
	assert_int_equal(mycel_gossip_opts_check(&o, why, sizeof(why)), MYCEL_EINVAL);
	assert_non_null(strstr(why, "fanout"));
	o.fanout = 0;
	o.batch_bytes = 100;
	assert_int_equal(mycel_gossip_opts_check(&o, why, sizeof(why)), MYCEL_EINVAL);
	assert_non_null(strstr(why, "batch_bytes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),   cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_errors_all_at_once), cmocka_unit_test(test_shapes),
	    cmocka_unit_test(test_load),   cmocka_unit_test(test_levels),
	    cmocka_unit_test(test_gossip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
