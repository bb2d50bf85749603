#include <stdlib.h>

#include "check.h"
#include "redact.h"

static void
argv_case(char *const *argv, size_t argc, const char *want)
{
	char *got = redact_argv(argv, argc);

	CHECK_STR(got, want);
	free(got);
}

static void
str_case(const char *in, const char *want)
{
	char *got = redact_str(in);

	CHECK_STR(got, want);
	free(got);
}

int
main(void)
{
	char *a1[] = { "claude", "--api-key", "sk-ant-api03-AbCdEf123456", "-p", "hi" };
	char *a2[] = { "node", "cli.js", "--api-key=verysecretvalue" };
	char *a3[] = { "env", "ANTHROPIC_API_KEY=sk-ant-xyz", "GITHUB_TOKEN=ghp_abc", "PATH=/bin" };
	char *a4[] = { "curl", "-H", "Authorization: Bearer abcdef123456", "x" };
	char *a5[] = { "claude", "use key sk-ant-api03-ZZZZZZZZZZZZ please" };
	char *a6[] = { "claude", "--token" };
	char *a7[] = { "ssh", "-p", "2222", "host" };

	argv_case(a1, 5, "claude --api-key *** -p hi");
	argv_case(a2, 3, "node cli.js --api-key=***");
	argv_case(a3, 4, "env ANTHROPIC_API_KEY=*** GITHUB_TOKEN=*** PATH=/bin");
	argv_case(a4, 4, "curl -H Authorization: Bearer *** x");
	argv_case(a5, 2, "claude use key sk-ant-*** please");
	argv_case(a6, 2, "claude --token");
	argv_case(a7, 4, "ssh -p 2222 host");
	str_case("x sk-ant-api03-secretsecret y", "x sk-ant-*** y");
	str_case("MY_SECRET=1 MY_SECRETS=2", "MY_SECRET=*** MY_SECRETS=2");
	str_case("", "");
	str_case("   ", "   ");
	str_case("sk-ant-", "sk-ant-");
	return CHECK_DONE();
}
