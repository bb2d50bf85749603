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

/*
 * A name that holds a secret, however it is spelt: --apiKey, --api_key,
 * --anthropic-api-key, "apiKey", auth_token. Case, dashes and underscores
 * do not count.
 */
static int
secret_name(const char *a, size_t n)
{
	static const char *const ends[] = {
		"apikey", "token", "secret", "password", "passwd", NULL,
	};
	char buf[64];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (a[i] == '-' || a[i] == '_')
			continue;
		if (!isalnum((unsigned char)a[i]) || k == sizeof(buf) - 1)
			return 0;
		buf[k++] = (char)tolower((unsigned char)a[i]);
	}
	buf[k] = '\0';
	for (int i = 0; ends[i]; i++) {
		size_t l = strlen(ends[i]);

		if (k >= l && strcmp(buf + k - l, ends[i]) == 0)
			return 1;
	}
	return strcmp(buf, "key") == 0;
}

static int
is_secret_opt(const char *a, size_t n)
{
	for (int i = 0; secret_opts[i]; i++)
		if (strlen(secret_opts[i]) == n && strncmp(a, secret_opts[i], n) == 0)
			return 1;
	return n > 2 && a[0] == '-' && secret_name(a, n);
}

/*
 * NAME=value where NAME is an environment-style secret name: X_TOKEN,
 * x_token, or the bare PASSWORD, TOKEN.
 */
static int
is_secret_assign(const char *a, size_t namelen)
{
	if (namelen == 0)
		return 0;
	for (size_t i = 0; i < namelen; i++)
		if (!isalnum((unsigned char)a[i]) && a[i] != '_')
			return 0;
	for (int i = 0; secret_suffixes[i]; i++) {
		size_t sl = strlen(secret_suffixes[i]);

		if (namelen >= sl &&
		    strncasecmp(a + namelen - sl, secret_suffixes[i], sl) == 0)
			return 1;
		/* the suffix alone, without its underscore */
		if (namelen == sl - 1 &&
		    strncasecmp(a, secret_suffixes[i] + 1, sl - 1) == 0)
			return 1;
	}
	return 0;
}

/* An HTTP header whose value is a credential, as in curl -H. */
static int
is_secret_header(const char *w, size_t n)
{
	static const char *const hdrs[] = {
		"authorization:", "proxy-authorization:", "x-api-key:",
		"api-key:", "x-auth-token:", "cookie:", NULL,
	};

	for (int i = 0; hdrs[i]; i++) {
		size_t l = strlen(hdrs[i]);

		if (n >= l && strncasecmp(w, hdrs[i], l) == 0)
			return (int)l;
	}
	return 0;
}

static int
is_auth_scheme(const char *w, size_t n)
{
	static const char *const schemes[] = {
		"Bearer", "Basic", "Token", "Digest", "Negotiate", NULL,
	};

	for (int i = 0; schemes[i]; i++)
		if (strlen(schemes[i]) == n && strncasecmp(w, schemes[i], n) == 0)
			return 1;
	return 0;
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
/* scheme://user:password@host: the password. 1 if w had one. */
static int
mask_userinfo(struct sbuf *b, const char *w, size_t n)
{
	const char *ss = memmem(w, n, "://", 3), *host, *at, *col;
	size_t rest;

	if (ss == NULL)
		return 0;
	host = ss + 3;
	rest = n - (size_t)(host - w);
	at = memchr(host, '@', rest);
	if (at == NULL || memchr(host, '/', (size_t)(at - host)) != NULL)
		return 0;
	col = memchr(host, ':', (size_t)(at - host));
	if (col == NULL)
		return 0;
	mask_keys(b, w, (size_t)(col + 1 - w));
	sb_str(b, REDACTED);
	mask_keys(b, at, n - (size_t)(at - w));
	return 1;
}

/*
 * Redact one word. *next_secret says the previous word was an option whose
 * value this is (1), or a credential header whose value may start with a
 * scheme (2); it is updated for the following word.
 */
static void
redact_word(struct sbuf *b, const char *w, size_t n, int *next_secret)
{
	const char *eq = memchr(w, '=', n);
	int hl;

	if (*next_secret == 2 && is_auth_scheme(w, n)) {
		sb_add(b, w, n);
		*next_secret = 1;
		return;
	}
	if (*next_secret) {
		*next_secret = 0;
		sb_str(b, REDACTED);
		return;
	}
	if ((hl = is_secret_header(w, n)) > 0) {
		sb_add(b, w, (size_t)hl);
		if ((size_t)hl < n)
			sb_str(b, REDACTED);	/* "x-api-key:value" */
		else
			*next_secret = 2;
		return;
	}
	if (w[0] == '-' && eq == NULL && is_secret_opt(w, n)) {
		/* "-p" alone is too common (ports, profiles) to mask its value. */
		*next_secret = !(n == 2 && w[1] == 'p');
		mask_keys(b, w, n);	/* a key can end in "token" too */
		return;
	}
	if (eq && w[0] == '-' && is_secret_opt(w, (size_t)(eq - w))) {
		mask_keys(b, w, (size_t)(eq - w) + 1);
		sb_str(b, REDACTED);
		return;
	}
	if (eq && is_secret_assign(w, (size_t)(eq - w))) {
		sb_add(b, w, (size_t)(eq - w) + 1);
		sb_str(b, REDACTED);
		return;
	}
	if (is_auth_scheme(w, n)) {
		sb_add(b, w, n);
		*next_secret = n == 6 && strncasecmp(w, "Bearer", 6) == 0;
		return;
	}
	if (mask_userinfo(b, w, n))
		return;
	mask_keys(b, w, n);
}

/*
 * JSON anywhere in the text ("apiKey": "value", {"auth_token":"v"}): the
 * string value of a secret-named key. Returns s, or a new string with
 * the values masked (s freed).
 */
static char *
mask_json(char *s)
{
	struct sbuf b = { 0 };
	const char *p = s, *copied = s;

	while ((p = strchr(p, '"')) != NULL) {
		const char *k = p + 1, *ke = strchr(k, '"'), *v, *ve;

		if (ke == NULL)
			break;
		v = ke + 1 + strspn(ke + 1, " \t");
		if (*v != ':' || !secret_name(k, (size_t)(ke - k))) {
			p = ke + 1;
			continue;
		}
		v++;
		v += strspn(v, " \t");
		if (*v != '"') {
			p = v;
			continue;
		}
		for (ve = v + 1; *ve && *ve != '"'; ve++)
			if (*ve == '\\' && ve[1])
				ve++;
		sb_add(&b, copied, (size_t)(v + 1 - copied));
		sb_str(&b, REDACTED);
		copied = ve;
		p = *ve ? ve + 1 : ve;
		if (*ve == '\0')
			break;
	}
	if (b.s == NULL)
		return s;
	sb_str(&b, copied);
	free(s);
	return b.s;
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
	return mask_json(b.s);
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
	return mask_json(b.s);
}
