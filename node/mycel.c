/*
 * mycel — the command-line tool. Thin over libmycel: parse arguments, call the
 * library, print. Exit codes: 0 success, 1 the operation failed or found
 * problems, 2 usage error.
 *
 * This file holds main, the help and the command table; the commands are in
 * cmd_local.c, cmd_catalog.c, cmd_write.c, cmd_watch.c and cmd_diff.c, what they share in
 * cli_common.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_common.h"

/* ---- main --------------------------------------------------------------------------------------- */

static void help(FILE *f)
{
	fprintf(f,
		"mycel %s — a federated data-mesh catalog\n"
		"\n"
		"usage: mycel COMMAND [OPTIONS]\n"
		"\n"
		"Catalog commands (on a node or directly on a store, with the same output):\n"
		"  publish FILE... [--dry-run]       lint, sign and store contracts and products\n"
		"                                    (several files: one request, all or none)\n"
		"  deprecate|retire DOMAIN/ID --version V [--reason TEXT]\n"
		"                                    change a published version's status\n"
		"  get DOMAIN/ID [--version V] [--doc]\n"
		"                                    a document: owner, versions, status, signature\n"
		"  search [QUERY] [--domain D] [--kind K] [--status S] [--tag T]... [--classification C]\n"
		"         [--server TYPE] [--limit N] [--all] [--facets]\n"
		"                                    ranked search over the mesh's catalog\n"
		"  lineage DOMAIN/ID [--up|--down] [--depth N]\n"
		"                                    what a document is made from, or what it feeds\n"
		"  log [DOMAIN]                      list the feeds and their entries\n"
		"  verify                            check every signature, chain link, body hash,\n"
		"                                    timestamp and charter step; exit 1 on any failure\n"
		"                                    (on a node: every feed pulled and checked here)\n"
		"  verify BUNDLE [--json]            check an audit bundle offline (no store, no node):\n"
		"                                    owner, since when, charter, version history\n"
		"  audit DOMAIN/ID --out BUNDLE      write a document's audit bundle: charters from\n"
		"                                    genesis, the owning feed, its transfers and forks\n"
		"  status                            node, mesh id, charter, feeds, entries, documents,\n"
		"                                    peers and uptime (the last two from a node only)\n"
		"  peers [add URL | remove URL]      a node's gossip peers: state, source, last\n"
		"                                    contact, entries in/out, rejects, lag; add or\n"
		"                                    remove one (admin socket; kept)\n"
		"  reindex                           rebuild the catalog from the feeds\n"
		"  key rotate                        a new signing key for the domain's feed (a key entry)\n"
		"  transfer DOMAIN/ID --to DOMAIN    offer one of this domain's products to another domain\n"
		"  accept DOMAIN/ID                  take over a product offered to this domain\n"
		"\n"
		"  Where they run: --node URL (tcp://HOST:PORT, or ipc://DIR/admin.sock for publish,\n"
		"  deprecate, retire, reindex and peers) > --data DIR > $MYCEL_NODE > the default\n"
		"  directory ($MYCEL_DATA or ./.mycel): through its admin socket while a myceld\n"
		"  serves it, else directly. --data always reads the store directly.\n"
		"  Every entry a node returns is verified against the charter (the directory's\n"
		"  charter.mcc, or fetched from the node: pin it with --mesh-id HEX as `mycel status`\n"
		"  prints it, else it is trusted on first use). --no-verify trusts the node blindly\n"
		"  (unsafe). --timeout MS bounds each call (default 10000). --json: machine output.\n"
		"  Errors from a node: mycel: COMMAND: STATUS: message.\n"
		"\n", MYCEL_VERSION);
	fprintf(f,
		"Local commands (files and stores on this machine; --node does not apply):\n"
		"  keygen --out FILE                 create a secret key (mode 0600); prints the public key\n"
		"  init [--dir DIR] --domain NAME [--key FILE] [--charter FILE] [--mesh NAME]\n"
		"                                    create a domain directory (default ./.mycel)\n"
		"  charter init --mesh NAME --member NAME=PUBKEY... --threshold K\n"
		"               [--domain NAME=PUBKEY...] [--compatibility MODE] --out FILE\n"
		"                                    write a new, unsigned genesis charter\n"
		"  charter sign FILE --key KEYFILE   add one member's signature, in place\n"
		"  charter show [FILE [--prev PREV] | --data DIR]\n"
		"                                    a charter: content, signers, thresholds met or missing\n"
		"  charter admit|remove|compromise|set-policy|members FILE ... --out NEXT\n"
		"                                    write the unsigned next version (see `mycel charter`)\n"
		"  charter merge FILE FILE... --out F  join the signatures of copies of one version\n"
		"  charter apply FILE [--data DIR | --node URL]\n"
		"                                    adopt a fully signed next version\n"
		"  profile [--data DIR] [--title T] [--description D] [--contact C]... [--node URL]...\n"
		"                                    publish the domain's profile (a `domain` entry);\n"
		"                                    here --node lists the domain's node addresses\n"
		"  lint FILE... [--json]             check ODCS/ODPS documents against their official\n"
		"                                    schema: file:line:col: /pointer: message\n"
		"  diff OLD NEW [--mode MODE] [--json]\n"
		"                                    how a contract changed, each change marked breaking\n"
		"                                    or not (MODE: BACKWARD (default), FORWARD, FULL,\n"
		"                                    their _TRANSITIVE forms, NONE); exit 1 if any breaks\n"
		"  pull --from DIR [--data DIR]      copy what another local store holds, verifying\n"
		"                                    every entry as if it came from a peer\n"
		"\n"
		"Node commands:\n"
		"  watch --node URL [--domain D] [--kind K] [--count N] [--timeout SECONDS]\n"
		"                                    print a node's change events (myceld --events)\n"
		"  version                           print the version\n"
		"\n"
		"Exit codes: 0 success, 1 failure, 2 usage.\n");
}

int main(int argc, char **argv)
{
	cli_color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	if (argc < 2) {
		help(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	argc--;
	argv++;
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		help(stdout);
		return 0;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("mycel %s\n", MYCEL_VERSION);
		return 0;
	}
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {{"keygen", cmd_keygen},   {"init", cmd_init}, {"charter", cmd_charter},
		    {"profile", cmd_profile}, {"log", cmd_log},   {"verify", cmd_verify},
		    {"lint", cmd_lint},       {"publish", cmd_publish}, {"deprecate", cmd_deprecate},
		    {"retire", cmd_retire},   {"get", cmd_get},   {"search", cmd_search},
		    {"lineage", cmd_lineage}, {"reindex", cmd_reindex}, {"key", cmd_key},
		    {"transfer", cmd_transfer}, {"accept", cmd_accept}, {"pull", cmd_pull},
		    {"watch", cmd_watch},     {"status", cmd_status}, {"peers", cmd_peers},
		    {"diff", cmd_diff},       {"audit", cmd_audit}};
	/* commands that work on local files only: --node has no meaning there; say so */
	static const char *const local_only[] = {"keygen", "init", "charter", "lint", "pull", "diff"};
	for (size_t i = 0; i < sizeof(local_only) / sizeof(local_only[0]); i++) {
		if (strcmp(cmd, local_only[i]) != 0)
			continue;
		if (strcmp(cmd, "charter") == 0 && argc > 1 && strcmp(argv[1], "apply") == 0)
			break; /* charter apply hands a version to a node */
		for (int j = 1; j < argc; j++)
			if (strcmp(argv[j], "--node") == 0 || strncmp(argv[j], "--node=", 7) == 0)
				return usage_error(cmd, "works on local files only: --node does not apply");
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmd, cmds[i].name) == 0)
			return cmds[i].fn(argc, argv);
	return usage_error(cmd, "unknown command");
}

