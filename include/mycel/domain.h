/*
 * mycel/domain.h — domain directories.
 *
 * A domain directory (made by `mycel init`, default ./.mycel) holds what one
 * domain team needs to run: its secret key (key.secret, mode 0600), the mesh
 * charter it joined (charter.mcc), its store (store/), and a config file
 * (config.yaml) naming them:
 *
 *   domain: sales
 *   key: key.secret
 *   charter: charter.mcc
 *   store: store
 *
 * Paths in config.yaml are relative to the directory.
 */
#ifndef MYCEL_DOMAIN_H
#define MYCEL_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/charter.h"
#include "mycel/key.h"
#include "mycel/store.h"

#define MYCEL_CONFIG_FILE "config.yaml"
#define MYCEL_CONFIG_MAX (64u << 10)

typedef struct mycel_domain_opts {
	const char *dir;          /* the directory to create (must not hold a config yet) */
	const char *name;         /* the domain's name */
	const char *key_file;     /* existing key to use (copied in), or NULL to generate one */
	const char *charter_file; /* genesis charter to join, or NULL for a single-member mesh */
	const char *mesh;         /* mesh name of the charter made when charter_file is NULL */
	/*
	 * Versions 2, 3, ... of charter_file's chain, in order (n_later files): each must
	 * verify against the one before, and the last must bind the domain to the key. The
	 * store adopts them all; charter.mcc stays the genesis (the mesh's trust anchor).
	 */
	const char *const *later_charters;
	size_t n_later;
} mycel_domain_opts;

/*
 * Creates a domain directory: key pair (generated or copied), the charter
 * (the given genesis charter, which must verify and bind the domain's name to
 * the key; or a new single-member charter signed by the domain key that
 * admits the domain), the store holding that charter, and config.yaml.
 * EEXIST if dir already holds a config; ECHARTER/EADMIT with why when the
 * charter is invalid or does not admit the domain. On failure, files created
 * so far are removed.
 */
int mycel_domain_init(const mycel_domain_opts *o, char *why, size_t why_len);

typedef struct mycel_domain {
	char *dir;
	char *name;
	char *key_path;
	char *charter_path;
	char *store_path;
} mycel_domain;

/*
 * Reads dir/config.yaml (bounded size, flat map of strings, unknown keys
 * refused with their line) into *out. ENOTFOUND if there is no config.
 */
int mycel_domain_load(const char *dir, mycel_domain *out, char *why, size_t why_len);

/*
 * Finishes, or undoes, a key rotation (PROTOCOL.md §5.4) that a crash interrupted in d:
 * a rotation writes the next key to "<key>.next" before it commits the key entry, then keeps
 * the old key as "<key>.N.old" and renames the next one over the key file. When the .next
 * file's key is the one that signs the domain's feed in s now, the renames are done
 * (*out_done true: reload the key); otherwise the .next file is removed. Nothing to do: 0.
 * EIO (why names the file) when a rename fails; ENOTFOUND when s's charter does not name d.
 */
int mycel_domain_key_recover(const mycel_domain *d, mycel_store *s, bool *out_done, char *why,
                             size_t why_len);

/* Frees what mycel_domain_load allocated. Accepts NULL. */
void mycel_domain_fini(mycel_domain *d);

#endif
