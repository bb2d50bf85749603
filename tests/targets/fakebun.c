/*
 * A stand-in for a Bun-built Claude Code in cd-launch's tests: an ELF
 * with a ".bun" section, the mark cd-launch reads, that treats the
 * environment as the real one does: an unknown BUN_JSC_* name exits 1,
 * BUN_JSC_useJITDump=1 without an existing BUN_JSC_jitDumpDirectory
 * aborts, and with one it writes DIR/jit-TID-PID.dump (a jitdump header
 * and BYTES more) and maps it, the marker JSC leaves in /proc/PID/maps.
 *
 *   fakebun [--ready FILE] [--bytes N] [--sleep SECS] [--exit N] [--env]
 *
 * --ready writes "PID DUMP-PATH DIR-MODE DIR-UID" ("-" when no dump);
 * --env prints the environment, one NAME=VALUE a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* what cd-launch looks for: Bun keeps its bundle in this section */
__attribute__((section(".bun"), used)) static const char bun_mark[] = "fakebun";

struct jitdump_header {
	uint32_t magic, version, total_size, elf_mach, pad1, pid;
	uint64_t timestamp, flags;
};

static void
check_names(void)
{
	for (char **e = environ; *e; e++) {
		if (strncmp(*e, "BUN_JSC_", 8) != 0)
			continue;
		if (strncmp(*e, "BUN_JSC_useJITDump=", 19) != 0 &&
		    strncmp(*e, "BUN_JSC_jitDumpDirectory=", 25) != 0) {
			fprintf(stderr, "fakebun: unknown JSC option %s\n", *e);
			exit(1);
		}
	}
}

static char *
write_dump(long bytes, struct stat *dirst)
{
	const char *on = getenv("BUN_JSC_useJITDump"), *dir = getenv("BUN_JSC_jitDumpDirectory");
	struct jitdump_header h = { 0x4A695444, 1, sizeof(h), 62, 0, (uint32_t)getpid(), 0, 0 };
	static char path[4096];
	char zero[4096] = { 0 };
	int fd;

	if (on == NULL || strcmp(on, "1") != 0)
		return NULL;
	if (dir == NULL || stat(dir, dirst) != 0 || !S_ISDIR(dirst->st_mode)) {
		fprintf(stderr, "fakebun: jitdump directory missing\n");
		abort();
	}
	snprintf(path, sizeof(path), "%s/jit-%ld-%d.dump", dir, (long)syscall(SYS_gettid),
	    (int)getpid());
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0666);
	if (fd < 0 || write(fd, &h, sizeof(h)) != (ssize_t)sizeof(h))
		abort();
	while (bytes > 0) {
		size_t n = bytes > (long)sizeof(zero) ? sizeof(zero) : (size_t)bytes;

		if (write(fd, zero, n) != (ssize_t)n)
			abort();
		bytes -= (long)n;
	}
	if (mmap(NULL, sizeof(h), PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) == MAP_FAILED)
		abort();
	return path;
}

int
main(int argc, char **argv)
{
	const char *ready = NULL;
	long bytes = 0, code = 0;
	double secs = 0;
	int show_env = 0;
	struct stat dirst = { 0 };
	char *dump;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ready") == 0 && i + 1 < argc)
			ready = argv[++i];
		else if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc)
			bytes = atol(argv[++i]);
		else if (strcmp(argv[i], "--sleep") == 0 && i + 1 < argc)
			secs = atof(argv[++i]);
		else if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc)
			code = atol(argv[++i]);
		else if (strcmp(argv[i], "--env") == 0)
			show_env = 1;
	}
	check_names();
	dump = write_dump(bytes, &dirst);
	if (show_env)
		for (char **e = environ; *e; e++)
			puts(*e);
	fflush(stdout);
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (f == NULL)
			return 3;
		fprintf(f, "%d %s %o %d\n", (int)getpid(), dump ? dump : "-",
		    (unsigned)(dirst.st_mode & 07777), (int)dirst.st_uid);
		fclose(f);
	}
	if (secs > 0) {
		struct timespec ts = { (time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9) };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	return (int)code;
}
