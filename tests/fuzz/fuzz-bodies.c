/*
 * fuzz-bodies.c — the readers of the bodies of `key` entries (src/feedkey.h, PROTOCOL.md
 * §5.4) and `transfer` entries (src/transfer.c, §5.5) on untrusted bytes. A key body that
 * passes is exactly 110 bytes and names a key whose reverse signature verifies; a transfer
 * body that passes is one canonical value that re-encodes to itself. Refusals are EFORMAT or
 * EBADSIG, nothing else.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "feedkey.h"
#include "mycel/codec.h"
#include "mycel/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The feed of proto/vectors/key.txt (seed 404142..5f); its key entry is seq 2. */
static const uint8_t FEED[32] = {
    0x25, 0x43, 0xb9, 0x2f, 0xf1, 0x09, 0x55, 0x11, 0x47, 0x6a, 0xdc, 0x83, 0x69, 0xdb, 0x6d, 0xdc,
    0x93, 0x36, 0x65, 0xa1, 0x19, 0x78, 0xdd, 0xa1, 0x40, 0x4e, 0xe1, 0x06, 0x6c, 0xa9, 0x55, 0x9d};

static void die(const char *what, int rv)
{
	fprintf(stderr, "fuzz-bodies: %s (%s)\n", what, mycel_errname(rv));
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t next[32];
	int rv = mycel__feedkey_body_check(FEED, 2, data, size, next);
	if (rv == 0 && (size != MYCEL__KEY_BODY_LEN || memcmp(next, data + 8, 32) != 0))
		die("a key body passed that is not the 110-byte {next, sig}", rv);
	if (rv != 0 && rv != MYCEL_EFORMAT && rv != MYCEL_EBADSIG)
		die("unexpected key body refusal", rv);

	bool accept = false;
	rv = mycel__transfer_body_check(data, size, &accept);
	if (rv != 0 && rv != MYCEL_EFORMAT)
		die("unexpected transfer body refusal", rv);
	if (rv == 0) {
		mycel_arena *a = NULL;
		mycel_value *v = NULL;
		mycel_buf b;
		if (mycel_arena_new(4 * size + 4096, &a) != 0)
			die("arena", MYCEL_ENOMEM);
		if ((rv = mycel_value_decode(data, size, size, a, &v, NULL)) != 0)
			die("a transfer body passed that is not one canonical value", rv);
		mycel_buf_init(&b, size + 16);
		if ((rv = mycel_value_encode(v, &b)) != 0 || b.len != size ||
		    memcmp(b.data, data, size) != 0)
			die("a transfer body passed that does not re-encode to itself", rv);
		mycel_buf_fini(&b);
		mycel_arena_free(a);
	}
	return 0;
}
