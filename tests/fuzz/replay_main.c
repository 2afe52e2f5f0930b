/*
 * replay_main.c — runs a fuzz target's LLVMFuzzerTestOneInput over files, so
 * that every corpus and regression input replays in each ordinary test run
 * (like systemd's fuzz-main). Each argument is a file or a directory (read
 * one level deep, in name order). Exits 1 when an argument is missing,
 * unreadable or holds no inputs; a crash or abort fails by itself.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads the file into a buffer of exactly its size, so sanitizers see overreads. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	long size;
	int rc = -1;

	if (f == NULL)
		goto fail;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto fail;
	data = malloc(size ? (size_t)size : 1);
	if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size)
		goto fail;
	LLVMFuzzerTestOneInput(size ? data : NULL, (size_t)size);
	rc = 0;
fail:
	if (rc != 0)
		fprintf(stderr, "replay: cannot read %s\n", path);
	free(data);
	if (f != NULL)
		fclose(f);
	return rc;
}

/* Replays path; a directory's regular files, and those of its subdirectories. */
static long replay_path(const char *path, int levels)
{
	struct dirent **names;
	struct stat st;
	long total = 0;
	int n;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s does not exist\n", path);
		return -1;
	}
	if (S_ISREG(st.st_mode))
		return replay_file(path) == 0 ? 1 : -1;
	if (!S_ISDIR(st.st_mode) || levels < 0)
		return 0;
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: cannot list %s\n", path);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char child[4096];
		int len = snprintf(child, sizeof(child), "%s/%s", path, names[i]->d_name);
		long got = 0;

		if (names[i]->d_name[0] != '.' && len > 0 && (size_t)len < sizeof(child))
			got = replay_path(child, levels - 1);
		if (got < 0 || total < 0)
			total = -1;
		else
			total += got;
		free(names[i]);
	}
	free(names);
	return total;
}

int main(int argc, char **argv)
{
	long total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE-OR-DIRECTORY...\n", argv[0]);
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		long n = replay_path(argv[i], 1);

		if (n < 0)
			return 1;
		if (n == 0) {
			fprintf(stderr, "replay: %s holds no inputs\n", argv[i]);
			return 1;
		}
		total += n;
	}
	printf("replayed %ld inputs\n", total);
	return 0;
}
