/*
 * tests/common.h — the fixtures the unit tests share: temporary directories, keys from a
 * fixed seed, a genesis charter, a store holding it, a domain directory, a small contract.
 *
 * Every function here checks what it does with cmocka's assertions, so it is called from a
 * test, a setup or a teardown (include <cmocka.h> first): a failure fails the running
 * test with a message saying what could not be set up.
 */
#ifndef MYCEL_TESTS_COMMON_H
#define MYCEL_TESTS_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mycel/codec.h"
#include "mycel/key.h"
#include "mycel/store.h"

/* Creates a fresh directory /tmp/mycel-TAG-XXXXXX (mkdtemp); its path goes to dir (n bytes). */
void tc_tmpdir(const char *tag, char *dir, size_t n);

/*
 * Removes dir and everything under it, not following symbolic links. An empty string is
 * no directory: nothing is done. Returns 0, or -1 if something could not be removed.
 */
int tc_rm_rf(const char *dir);

/* The key whose 32-byte seed is fill repeated; the caller frees it (mycel_key_free). */
mycel_key *tc_seed_key(uint8_t fill);

/*
 * A genesis charter of mesh: version 1, threshold 1, one member "gov" holding gov's key,
 * domains names[i] with keys[i]'s public key (i < n), signed by gov. Its file bytes go to
 * out_file (initialised here, the caller calls mycel_buf_fini) and, when out_mesh_id is
 * not NULL, its digest (the mesh id) to out_mesh_id.
 */
void tc_genesis(const char *mesh, const mycel_key *gov, const char *const *names,
                const mycel_key *const *keys, size_t n, mycel_buf *out_file, uint8_t *out_mesh_id);

/* Creates a store in dir (MYCEL_STORE_CREATE) holding the charter file p[0..n); open. */
mycel_store *tc_store_new(const char *dir, const uint8_t *p, size_t n);

/*
 * Creates the domain directory dir for domain name of a new mesh (mycel_domain_init with
 * its own key and charter). Returns the domain's key (the caller frees it); when out_store
 * is not NULL, the path of its store goes there (n bytes).
 */
mycel_key *tc_domain_dir(const char *dir, const char *name, const char *mesh, char *out_store,
                         size_t n);

/*
 * Appends to k's feed in s a contract {apiVersion v3.0.2, description {purpose} (only
 * when purpose is not NULL), id, kind DataContract, name, status active, version}.
 */
void tc_put_contract(mycel_store *s, const mycel_key *k, const char *id, const char *version,
                     const char *name, const char *purpose);

/* The wall clock, in milliseconds since the epoch. */
uint64_t tc_now_ms(void);

/*
 * Reads from fd into buf (cap bytes, NUL-terminated) until a newline, end of file or ms
 * milliseconds have passed (monotonic clock); returns the bytes read. For a daemon's ready
 * line: the wait is on the line, bounded by the time.
 */
size_t tc_read_line(int fd, char *buf, size_t cap, int ms);

/* Copies the file at path to stderr under a header naming it (a daemon's log, on failure). */
void tc_dump_file(const char *path);

/*
 * Waits up to ms for pid to exit and returns its wait status. On time out kills it, copies
 * the file log (if not NULL) to stderr and fails the test.
 */
int tc_wait_exit(pid_t pid, int ms, const char *log);

#endif
