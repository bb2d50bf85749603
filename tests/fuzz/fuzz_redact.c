/*
 * libFuzzer harness for secret redaction and UTF-8 sanitising: any bytes
 * in, never a crash, and properties of what comes out: no Anthropic key
 * left readable after its prefix, no NUL, and sanitised text valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "redact.h"

/* Every "sk-ant-" in out that redaction would mask is followed by "***". */
static void
check_masked(const char *out)
{
	for (const char *p = out; (p = strstr(p, "sk-ant-")) != NULL; p++) {
		size_t run = 0;

		for (const char *q = p + 7; *q && run < 8; q++, run++)
			if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
			    (*q >= '0' && *q <= '9') || *q == '-' || *q == '_'))
				break;
		if (run >= 8 && strncmp(p + 7, "***", 3) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *out, *clean;
	char *argv[4];
	size_t n = 0;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	out = redact_str(s);
	check_masked(out);
	free(out);
	/* the same bytes as an argv, split at NULs */
	for (char *p = s; p < s + size && n < 4; p += strlen(p) + 1)
		argv[n++] = p;
	out = redact_argv(argv, n);
	check_masked(out);
	free(out);
	clean = utf8_sanitize((const char *)data, size);
	if (!utf8_valid(clean, strlen(clean)))
		abort();
	if (size > 0 && data[0] != '\0' && clean[0] == '\0')
		abort();	/* text does not vanish */
	free(clean);
	free(s);
	return 0;
}
