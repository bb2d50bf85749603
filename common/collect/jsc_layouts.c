/*
 * The JSC layouts known: a table compiled in (entries learned with
 * `cd-sample --learn-jsc-layout` on the build named, checked by
 * `cd-sample --jsc-check`), and a per-user cache file of the same lines
 * that --learn-jsc-layout adds to.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsc_frames.h"
#include "msg.h"
#include "owner.h"

static const struct jsc_layout known[] = {
	/* Bun 1.4.0 as in Claude Code 2.1.197 (npm, linux-x64 native build) */
	{ "2ba9a4dca997a53147167d7f967fdc840325054c", 64, 88, 80, 24, 18, 12, 13,
	  "Claude Code 2.1.197 (Bun 1.4.0), learned 2026-12-01" },
};

void
jsc_layout_format(const struct jsc_layout *l, char *buf, size_t len)
{
	snprintf(buf, len, "%s owner=%u unlinked=%u name=%u callee=%u types=%u,%u,%u",
	    l->build_id, l->cb_owner, l->exec_unlinked, l->unlinked_name, l->callee_exec,
	    l->type_cb, l->type_exec, l->type_unlinked);
}

static int
hex_id(const char *s, size_t n)
{
	if (n < 8 || n > 64 || n % 2 != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
off_ok(unsigned v)
{
	return v >= 8 && v < JSC_OFF_MAX && v % 8 == 0;
}

int
jsc_layout_parse(const char *line, struct jsc_layout *l)
{
	char id[80], rest[2];
	unsigned o1, o2, o3, o4, t1, t2, t3;
	size_t n;

	memset(l, 0, sizeof(*l));
	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '#' || *line == '\0' || *line == '\n')
		return -1;
	rest[0] = '\0';
	if (sscanf(line, "%79s owner=%u unlinked=%u name=%u callee=%u types=%u,%u,%u %1s", id,
	    &o1, &o2, &o3, &o4, &t1, &t2, &t3, rest) < 8 || (rest[0] != '\0' && rest[0] != '#'))
		return -1;
	n = strlen(id);
	if (!hex_id(id, n) || !off_ok(o1) || !off_ok(o2) || !off_ok(o3) ||
	    (o4 != 0 && !off_ok(o4)) || t1 > 255 ||
	    t2 > 255 || t3 > 255)
		return -1;
	memcpy(l->build_id, id, n + 1);
	l->cb_owner = (uint16_t)o1;
	l->exec_unlinked = (uint16_t)o2;
	l->unlinked_name = (uint16_t)o3;
	l->callee_exec = (uint16_t)o4;
	l->type_cb = (uint8_t)t1;
	l->type_exec = (uint8_t)t2;
	l->type_unlinked = (uint8_t)t3;
	return 0;
}

char *
jsc_layout_cache_path(void)
{
	const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");

	if (x != NULL && x[0] == '/')
		return xasprintf("%s/claude-diagnose/jsc-layouts", x);
	if (h != NULL && h[0] == '/')
		return xasprintf("%s/.cache/claude-diagnose/jsc-layouts", h);
	return NULL;
}

static int
find_in_file(const char *path, const char *build_id, struct jsc_layout *l)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int found = -1;

	if (f == NULL)
		return -1;
	/* The last line for an id wins: a relearned layout is appended. */
	while (fgets(line, sizeof(line), f) != NULL) {
		struct jsc_layout t;

		if (jsc_layout_parse(line, &t) == 0 && strcmp(t.build_id, build_id) == 0) {
			*l = t;
			l->note = "per-user cache";
			found = 0;
		}
	}
	fclose(f);
	return found;
}

int
jsc_layout_find(const char *build_id, const char *cache_path, struct jsc_layout *l)
{
	if (build_id == NULL || build_id[0] == '\0')
		return -1;
	if (cache_path != NULL && find_in_file(cache_path, build_id, l) == 0)
		return 0;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcmp(known[i].build_id, build_id) == 0) {
			*l = known[i];
			return 0;
		}
	}
	return -1;
}

/* mkdir -p of path's directory, mode 0700 for what is created. */
static int
make_dirs(const char *path)
{
	char *d = xstrdup(path);
	int rc = 0;

	for (char *p = d + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (d[0] != '\0' && mkdir(d, 0700) == 0)
			owner_fix(d);
		else if (d[0] != '\0' && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	free(d);
	return rc;
}

int
jsc_layout_save(const char *path, const struct jsc_layout *l)
{
	char line[256], *tmp;
	FILE *in, *out;
	int fd, rc = 0;

	if (make_dirs(path) != 0)
		return -1;
	tmp = xasprintf("%s.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0 || (out = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		free(tmp);
		return -1;
	}
	/* Other builds' lines are kept; this build's old line goes. */
	if ((in = fopen(path, "re")) != NULL) {
		while (fgets(line, sizeof(line), in) != NULL) {
			struct jsc_layout t;

			if (jsc_layout_parse(line, &t) == 0 && strcmp(t.build_id, l->build_id) == 0)
				continue;
			fputs(line, out);
		}
		fclose(in);
	}
	jsc_layout_format(l, line, sizeof(line));
	fprintf(out, "%s\n", line);
	if (fflush(out) != 0 || fsync(fd) != 0)
		rc = -1;
	owner_fix_fd(fd);
	if (fclose(out) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1;
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* The GNU build-id note of section data d, as hex into buf. */
static int
note_build_id(Elf_Data *d, char *buf, size_t len)
{
	size_t off = 0, noff, doff;
	GElf_Nhdr nh;

	while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
		const unsigned char *p = (const unsigned char *)d->d_buf + doff;

		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
		    memcmp((const char *)d->d_buf + noff, "GNU", 4) != 0 ||
		    nh.n_descsz < 4 || nh.n_descsz > 32 || 2 * (size_t)nh.n_descsz + 1 > len)
			continue;
		for (size_t i = 0; i < nh.n_descsz; i++)
			snprintf(buf + 2 * i, 3, "%02x", p[i]);
		return 0;
	}
	return -1;
}

int
jsc_binary(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), jsc = 0;
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	Elf *elf;

	if (len > 0)
		buf[0] = '\0';
	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	if ((elf = elf_begin(fd, ELF_C_READ_MMAP, NULL)) == NULL ||
	    elf_getshdrstrndx(elf, &shstrndx) != 0) {
		if (elf != NULL)
			elf_end(elf);
		close(fd);
		return -1;
	}
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;

		if (gelf_getshdr(scn, &sh) == NULL)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name != NULL && strcmp(name, "__DATA,__jsc_opcodes") == 0)
			jsc = 1;
		if (sh.sh_type == SHT_NOTE && (d = elf_getdata(scn, NULL)) != NULL)
			note_build_id(d, buf, len);
	}
	elf_end(elf);
	close(fd);
	return jsc;
}
