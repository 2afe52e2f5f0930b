/*
 * fuzz-config.c — a node's configuration file (include/mycel/config.h) on untrusted text.
 * A refusal must be one of the contract's codes with at least one finding and leave the
 * output untouched; an accepted configuration must keep the header's promises (URLs with
 * the right schemes and within bounds, counts in range, a known level, distinct peers).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/config.h"
#include "mycel/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
	fprintf(stderr, "fuzz-config: %s\n", what);
	abort();
}

static void check_url(const char *u, const char *scheme)
{
	if (u != NULL && (strlen(u) > MYCEL_NODE_URL_MAX || strstr(u, scheme) == NULL))
		die("a URL breaks its bounds or scheme");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > ((size_t)64 << 10))
		return 0;
	mycel_node_config c;
	memset(&c, 0x5A, sizeof(c));
	mycel_node_config before = c;
	mycel_diags d;
	mycel_diags_init(&d, 0);
	int rv = mycel_node_config_parse(size ? (const char *)data : "", size, "/base", &c, &d);
	if (rv != 0) {
		if (rv != MYCEL_EFORMAT && rv != MYCEL_ETOOBIG && rv != MYCEL_ENOMEM)
			die("unexpected error code");
		if (d.len == 0 && rv != MYCEL_ENOMEM)
			die("a refusal without a finding");
		if (memcmp(&c, &before, sizeof(c)) != 0)
			die("output touched on failure");
		mycel_diags_fini(&d);
		return 0;
	}
	check_url(c.listen, "://");
	check_url(c.admin, "ipc://");
	check_url(c.events, "tcp");
	if (c.workers > MYCEL_NODE_WORKERS_MAX || c.admin_workers > MYCEL_NODE_WORKERS_MAX)
		die("a count out of range");
	if (c.log_level < -1 || c.log_level > MYCEL_NODE_ERROR)
		die("an unknown level");
	if (c.n_peers > MYCEL_CONFIG_PEERS_MAX)
		die("too many peers");
	for (size_t i = 0; i < c.n_peers; i++) {
		check_url(c.peers[i], "tcp");
		for (size_t j = 0; j < i; j++)
			if (strcmp(c.peers[i], c.peers[j]) == 0)
				die("duplicate peers accepted");
	}
	if (c.data != NULL && c.data[0] != '/')
		die("a relative data path with a base directory");
	mycel_node_config_fini(&c);
	mycel_diags_fini(&d);
	return 0;
}
