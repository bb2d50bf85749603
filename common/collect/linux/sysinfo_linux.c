#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "sysinfo.h"

static void
distro(char *out, size_t len)
{
	FILE *f = fopen("/etc/os-release", "re");
	char line[512];

	out[0] = '\0';
	if (f == NULL)
		f = fopen("/usr/lib/os-release", "re");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *v;
		size_t n;

		if (strncmp(line, "PRETTY_NAME=", 12) != 0)
			continue;
		v = line + 12;
		v[strcspn(v, "\n")] = '\0';
		n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v[n - 1] = '\0';
			v++;
		}
		snprintf(out, len, "%s", v);
		break;
	}
	fclose(f);
}

void
sysinfo_read(struct sysinfo_id *s)
{
	struct utsname u;

	memset(s, 0, sizeof(*s));
	if (gethostname(s->hostname, sizeof(s->hostname) - 1) < 0)
		snprintf(s->hostname, sizeof(s->hostname), "unknown");
	if (uname(&u) == 0) {
		snprintf(s->os, sizeof(s->os), "%s", u.sysname);
		snprintf(s->os_version, sizeof(s->os_version), "%s", u.release);
		snprintf(s->machine, sizeof(s->machine), "%s", u.machine);
	}
	distro(s->distro, sizeof(s->distro));
}
