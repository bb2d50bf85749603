/*
 * Secret redaction for command lines and environment-style strings shown in
 * reports: Anthropic keys (sk-ant-...), values of --api-key/--token/...
 * options, and NAME=value where NAME ends in _KEY, _TOKEN, _SECRET,
 * _PASSWORD (ANTHROPIC_API_KEY=..., GITHUB_TOKEN=...), Bearer tokens.
 */
#ifndef CD_REDACT_H
#define CD_REDACT_H

#include <stddef.h>

#define REDACTED "***"

/* Join argv with spaces, redacting secrets. Caller frees. */
char *redact_argv(char *const argv[], size_t argc);
/* Redact a free-form string (split on blanks). Caller frees. */
char *redact_str(const char *s);

#endif
