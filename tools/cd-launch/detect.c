/*
 * Which runtime a command is: read from the executable, never guessed
 * from its name. A Bun build carries Bun's own ELF sections (.bun holds a
 * standalone executable's bundle, __jsc_opcodes and .bun_err are Bun's
 * runtime); Node exports its addon API (node_module_register) or links
 * libnode. A script is what its #! line runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch.h"
#include "msg.h"

#define MAX_SHEBANG_DEPTH 4

const char *
runtime_name(enum runtime rt)
{
	static const char *const names[] = { "none", "bun", "node" };

	return names[rt];
}

static int
executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *
resolve_command(const char *name)
{
	const char *path = getenv("PATH"), *p, *colon;

	if (*name == '\0') {
		errno = ENOENT;
		return NULL;
	}
	if (strchr(name, '/') != NULL) {
		if (executable_file(name))
			return xstrdup(name);
		if (access(name, F_OK) == 0)
			errno = EACCES;
		return NULL;
	}
	/* execvp's default when PATH is unset */
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (p = path;; p = colon + 1) {
		char *cand;
		size_t n;

		colon = strchr(p, ':');
		n = colon ? (size_t)(colon - p) : strlen(p);
		/* an empty entry is the current directory */
		cand = n ? xasprintf("%.*s/%s", (int)n, p, name) : xasprintf("./%s", name);
		if (executable_file(cand))
			return cand;
		free(cand);
		if (colon == NULL)
			break;
	}
	errno = ENOENT;
	return NULL;
}

static enum runtime classify(const char *path, int depth, char *why, size_t whylen);

static int
dyn_needs_libnode(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	for (size_t i = 0; data && i < n; i++) {
		GElf_Dyn dyn;
		const char *lib;

		if (gelf_getdyn(data, (int)i, &dyn) == NULL || dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag != DT_NEEDED)
			continue;
		lib = elf_strptr(e, sh->sh_link, dyn.d_un.d_val);
		if (lib && strncmp(lib, "libnode.so", 10) == 0)
			return 1;
	}
	return 0;
}

static int
dynsym_has(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, const char *want)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	for (size_t i = 0; data && i < n; i++) {
		GElf_Sym sym;
		const char *name;

		if (gelf_getsym(data, (int)i, &sym) == NULL)
			break;
		if (sym.st_shndx == SHN_UNDEF)
			continue;
		name = elf_strptr(e, sh->sh_link, sym.st_name);
		if (name && strcmp(name, want) == 0)
			return 1;
	}
	return 0;
}

static enum runtime
elf_runtime(int fd, const char *path, char *why, size_t whylen)
{
	enum runtime rt = RT_NONE;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	Elf *e;

	if (elf_version(EV_CURRENT) == EV_NONE ||
	    (e = elf_begin(fd, ELF_C_READ_MMAP, NULL)) == NULL) {
		snprintf(why, whylen, "%s: unreadable ELF", path);
		return RT_NONE;
	}
	if (elf_getshdrstrndx(e, &shstrndx) != 0) {
		snprintf(why, whylen, "%s: ELF without section names", path);
		elf_end(e);
		return RT_NONE;
	}
	snprintf(why, whylen, "%s: ELF without Bun's sections or Node's exports", path);
	/* Bun exports Node's addon API too: its own sections decide first */
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		const char *name;

		if (gelf_getshdr(scn, &sh) == NULL)
			continue;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (name && (strcmp(name, ".bun") == 0 || strcmp(name, ".bun_err") == 0 ||
		    strstr(name, "__jsc_opcodes") != NULL)) {
			rt = RT_BUN;
			snprintf(why, whylen, "%s: ELF section %s (Bun)", path, name);
			break;
		}
		if (rt != RT_NONE)
			continue;
		if (sh.sh_type == SHT_DYNAMIC && dyn_needs_libnode(e, scn, &sh)) {
			rt = RT_NODE;
			snprintf(why, whylen, "%s: links libnode", path);
		} else if (sh.sh_type == SHT_DYNSYM &&
		    dynsym_has(e, scn, &sh, "node_module_register")) {
			rt = RT_NODE;
			snprintf(why, whylen, "%s: exports node_module_register (Node)", path);
		}
	}
	elf_end(e);
	return rt;
}

/*
 * "#!/usr/bin/node", "#!/usr/bin/env node", "#!/usr/bin/env -S node --x":
 * the interpreter, then what it is. env's own options and NAME=VALUE
 * words are skipped to reach the program it runs.
 */
static enum runtime
shebang(const char *head, const char *path, int depth, char *why, size_t whylen)
{
	char line[256], *save = NULL, *tok, *interp, *prog = NULL;
	const char *base;
	enum runtime rt;

	snprintf(line, sizeof(line), "%s", head + 2);
	line[strcspn(line, "\r\n")] = '\0';
	interp = strtok_r(line, " \t", &save);
	if (interp == NULL) {
		snprintf(why, whylen, "%s: empty #! line", path);
		return RT_NONE;
	}
	base = strrchr(interp, '/') ? strrchr(interp, '/') + 1 : interp;
	if (strcmp(base, "env") == 0) {
		while ((tok = strtok_r(NULL, " \t", &save)) != NULL)
			if (tok[0] != '-' && strchr(tok, '=') == NULL) {
				prog = resolve_command(tok);
				if (prog == NULL) {
					snprintf(why, whylen, "%s: #! runs %s, not found", path, tok);
					return RT_NONE;
				}
				break;
			}
		if (prog == NULL) {
			snprintf(why, whylen, "%s: #! env without a program", path);
			return RT_NONE;
		}
	} else {
		prog = xstrdup(interp);
	}
	rt = classify(prog, depth + 1, why, whylen);
	free(prog);
	return rt;
}

static enum runtime
classify(const char *path, int depth, char *why, size_t whylen)
{
	char head[256];
	ssize_t n;
	int fd;
	enum runtime rt = RT_NONE;

	if (depth > MAX_SHEBANG_DEPTH) {
		snprintf(why, whylen, "%s: #! interpreters nested too deep", path);
		return RT_NONE;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return RT_NONE;
	}
	n = pread(fd, head, sizeof(head) - 1, 0);
	if (n < 0)
		n = 0;
	head[n] = '\0';
	if (n >= 2 && head[0] == '#' && head[1] == '!')
		rt = shebang(head, path, depth, why, whylen);
	else if (n >= SELFMAG && memcmp(head, ELFMAG, SELFMAG) == 0)
		rt = elf_runtime(fd, path, why, whylen);
	else
		snprintf(why, whylen, "%s: neither ELF nor a #! script", path);
	close(fd);
	return rt;
}

enum runtime
detect_runtime(const char *path, char *why, size_t whylen)
{
	char real[PATH_MAX];

	/* node_modules/.bin/claude is a symlink to the real executable */
	if (realpath(path, real) == NULL)
		snprintf(real, sizeof(real), "%s", path);
	return classify(real, 0, why, whylen);
}
