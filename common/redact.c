#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "redact.h"

/* Options whose value is a secret: "--api-key X" and "--api-key=X". */
static const char *const secret_opts[] = {
	"--api-key", "--apikey", "--token", "--auth-token", "--access-token",
	"--password", "--passwd", "--secret", "--client-secret", "--key",
	"-p", NULL,
};

static const char *const secret_suffixes[] = {
	"_KEY", "_TOKEN", "_SECRET", "_PASSWORD", "_PASSWD", "_APIKEY", NULL,
};

/* Key prefixes that identify a credential wherever they appear. */
static const char *const key_prefixes[] = {
	"sk-ant-", "sk-proj-", "ghp_", "gho_", "github_pat_", "xoxb-", "xoxp-",
	"AKIA", NULL,
};

struct sbuf {
	char *s;
	size_t len, cap;
};

static void
sb_add(struct sbuf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *p)
{
	sb_add(b, p, strlen(p));
}

static int
is_secret_opt(const char *a, size_t n)
{
	for (int i = 0; secret_opts[i]; i++)
		if (strlen(secret_opts[i]) == n && strncmp(a, secret_opts[i], n) == 0)
			return 1;
	return 0;
}

/* NAME=value where NAME is an environment-style secret name. */
static int
is_secret_assign(const char *a, size_t namelen)
{
	if (namelen == 0)
		return 0;
	for (size_t i = 0; i < namelen; i++)
		if (!isupper((unsigned char)a[i]) && !isdigit((unsigned char)a[i]) &&
		    a[i] != '_')
			return 0;
	for (int i = 0; secret_suffixes[i]; i++) {
		size_t sl = strlen(secret_suffixes[i]);

		if (namelen >= sl &&
		    strncmp(a + namelen - sl, secret_suffixes[i], sl) == 0)
			return 1;
	}
	return namelen == 3 && strncmp(a, "KEY", 3) == 0;
}

/* Copy one word, masking any credential-looking run inside it. */
static void
mask_keys(struct sbuf *b, const char *w, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t plen = 0;

		for (int k = 0; key_prefixes[k]; k++) {
			size_t l = strlen(key_prefixes[k]);

			if (n - i >= l + 8 && strncmp(w + i, key_prefixes[k], l) == 0) {
				plen = l;
				break;
			}
		}
		if (plen == 0) {
			sb_add(b, w + i, 1);
			i++;
			continue;
		}
		sb_add(b, w + i, plen);
		sb_str(b, REDACTED);
		i += plen;
		while (i < n && (isalnum((unsigned char)w[i]) || w[i] == '-' ||
		    w[i] == '_'))
			i++;
	}
}

/*
 * Redact one word. *next_secret says the previous word was an option whose
 * value this is; it is updated for the following word.
 */
static void
redact_word(struct sbuf *b, const char *w, size_t n, int *next_secret)
{
	const char *eq = memchr(w, '=', n);

	if (*next_secret) {
		*next_secret = 0;
		sb_str(b, REDACTED);
		return;
	}
	if (w[0] == '-' && eq == NULL && is_secret_opt(w, n)) {
		/* "-p" alone is too common (ports, profiles) to mask its value. */
		*next_secret = !(n == 2 && w[1] == 'p');
		sb_add(b, w, n);
		return;
	}
	if (eq && w[0] == '-' && is_secret_opt(w, (size_t)(eq - w))) {
		sb_add(b, w, (size_t)(eq - w) + 1);
		sb_str(b, REDACTED);
		return;
	}
	if (eq && is_secret_assign(w, (size_t)(eq - w))) {
		sb_add(b, w, (size_t)(eq - w) + 1);
		sb_str(b, REDACTED);
		return;
	}
	if (n == 6 && strncasecmp(w, "Bearer", 6) == 0) {
		sb_add(b, w, n);
		*next_secret = 1;
		return;
	}
	mask_keys(b, w, n);
}

char *
redact_argv(char *const argv[], size_t argc)
{
	struct sbuf b = { 0 };
	int next = 0;

	sb_str(&b, "");
	for (size_t i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *sp;

		if (i)
			sb_str(&b, " ");
		/* An argument with blanks inside ("Bearer xyz", a prompt) is
		 * redacted word by word. */
		sp = strpbrk(a, " \t\n");
		if (sp == NULL) {
			redact_word(&b, a, strlen(a), &next);
			continue;
		}
		{
			char *r = redact_str(a);

			if (next) {
				sb_str(&b, REDACTED);
				next = 0;
			} else {
				sb_str(&b, r);
			}
			free(r);
		}
	}
	return b.s;
}

char *
redact_str(const char *s)
{
	struct sbuf b = { 0 };
	int next = 0;
	const char *p = s;

	sb_str(&b, "");
	while (*p) {
		size_t ws = strspn(p, " \t\n");
		size_t wl;

		sb_add(&b, p, ws);
		p += ws;
		wl = strcspn(p, " \t\n");
		if (wl == 0)
			break;
		redact_word(&b, p, wl, &next);
		p += wl;
	}
	return b.s;
}
