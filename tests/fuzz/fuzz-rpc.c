/*
 * fuzz-rpc.c — mycel_rpc_serve on untrusted request bytes. The store is made once, on the
 * first input: a temporary directory (removed at exit) with a charter admitting domain
 * "sales" and one published contract sales/orders 1.0.0. Every input is served on the
 * public and on the admin socket; each must give exactly one decodable reply envelope
 * with a known status, and OK replies must carry a body.
 */
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/rpc.h"
#include "mycel/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_dir[64];
static mycel_store *g_store;

static void die(const char *what, int rv, const char *why)
{
	fprintf(stderr, "fuzz-rpc: %s (%s) %s\n", what, mycel_errname(rv), why ? why : "");
	abort();
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	mycel_store_close(g_store);
	g_store = NULL;
	if (g_dir[0] != '\0')
		(void)nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void init_store(void)
{
	uint8_t seed[MYCEL_SEED_LEN];
	mycel_key *gov = NULL, *dom = NULL;
	mycel_charter *c = NULL;
	mycel_buf b;
	char why[256] = "";
	int rv;

	memset(seed, 0x01, sizeof(seed));
	if ((rv = mycel_key_from_seed(seed, &gov)) != 0)
		die("key", rv, NULL);
	memset(seed, 0xa1, sizeof(seed));
	if ((rv = mycel_key_from_seed(seed, &dom)) != 0)
		die("key", rv, NULL);
	if ((rv = mycel_charter_new("fuzz", 1, 1, &c)) != 0 ||
	    (rv = mycel_charter_add_member(c, "gov", gov->pk)) != 0 ||
	    (rv = mycel_charter_add_domain(c, "sales", dom->pk)) != 0 ||
	    (rv = mycel_charter_sign(c, gov, why, sizeof(why))) != 0)
		die("charter", rv, why);
	mycel_buf_init(&b, MYCEL_CHARTER_MAX);
	if ((rv = mycel_charter_encode(c, &b)) != 0)
		die("charter encode", rv, NULL);
	mycel_charter_free(c);

	snprintf(g_dir, sizeof(g_dir), "/tmp/mycel-fuzz-rpc-XXXXXX");
	if (mkdtemp(g_dir) == NULL)
		die("mkdtemp", 0, g_dir);
	atexit(cleanup);
	if ((rv = mycel_store_open(g_dir, MYCEL_STORE_CREATE, &g_store, why, sizeof(why))) != 0)
		die("open", rv, why);
	if ((rv = mycel_store_add_charter(g_store, b.data, b.len, why, sizeof(why))) != 0)
		die("add charter", rv, why);
	mycel_buf_fini(&b);

	/* {apiVersion, id, kind, name, status, version}: keys in bytewise order */
	mycel_buf_init(&b, 4096);
	mycel_enc_map(&b, 6);
	mycel_enc_cstr(&b, "apiVersion");
	mycel_enc_cstr(&b, "v3.0.2");
	mycel_enc_cstr(&b, "id");
	mycel_enc_cstr(&b, "orders");
	mycel_enc_cstr(&b, "kind");
	mycel_enc_cstr(&b, "DataContract");
	mycel_enc_cstr(&b, "name");
	mycel_enc_cstr(&b, "Orders");
	mycel_enc_cstr(&b, "status");
	mycel_enc_cstr(&b, "active");
	mycel_enc_cstr(&b, "version");
	mycel_enc_cstr(&b, "1.0.0");
	if (b.err != 0)
		die("contract", b.err, NULL);
	mycel_record rec = {"contract", b.data, b.len};
	if ((rv = mycel_store_append(g_store, dom, dom->pk, &rec, 1, NULL)) != 0)
		die("append", rv, NULL);
	mycel_buf_fini(&b);
	mycel_key_free(gov);
	mycel_key_free(dom);
}

static void serve_once(const uint8_t *data, size_t size, bool admin)
{
	mycel_buf out;
	mycel_rpc_reply r;
	char why[256] = "";
	mycel_buf_init(&out, 16u << 20);
	int rv = mycel_rpc_serve(g_store, data, size, admin, 1700000000000ull, &out);
	if (rv != 0)
		die("serve produced no reply", rv, NULL);
	rv = mycel_rpc_reply_decode(out.data, out.len, out.len, &r, why, sizeof(why));
	if (rv != 0)
		die("reply does not decode", rv, why);
	if (strcmp(mycel_rpc_status_name(r.status), "?") == 0)
		die("unknown status", 0, NULL);
	if (r.status == MYCEL_RPC_OK && !r.has_body)
		die("OK without a body", 0, NULL);
	if (r.status != MYCEL_RPC_OK && r.message_len == 0)
		die("error without a message", 0, NULL);
	mycel_buf_fini(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (g_store == NULL)
		init_store();
	serve_once(data, size, false);
	serve_once(data, size, true);
	return 0;
}
