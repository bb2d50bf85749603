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
	/* issue 17: spellings and places that went through unmasked */
	str_case("--apiKey abc --anthropic-api-key def --api_key ghi",
	    "--apiKey *** --anthropic-api-key *** --api_key ***");
	str_case("--anthropic-api-key=def --max-tokens 100",
	    "--anthropic-api-key=*** --max-tokens 100");
	str_case("x_token=abc PASSWORD=hunter2 TOKEN=t1 token=t2 PATH=/bin",
	    "x_token=*** PASSWORD=*** TOKEN=*** token=*** PATH=/bin");
	str_case("-H x-api-key: abc123 -H Authorization: Basic dXNlcjpwYXNz",
	    "-H x-api-key: *** -H Authorization: Basic ***");
	str_case("authorization: xyz x-api-key:abc", "authorization: *** x-api-key:***");
	str_case("clone https://user:pass@example.com/r.git https://example.com/a:b@c",
	    "clone https://user:***@example.com/r.git https://example.com/a:b@c");
	str_case("{\"apiKey\":\"abc\",\"model\":\"m\"} \"auth_token\": \"x y\"",
	    "{\"apiKey\":\"***\",\"model\":\"m\"} \"auth_token\": \"***\"");
	str_case("Working in: proj sk-ant-api03-ZZZZZZZZZZZZ", "Working in: proj sk-ant-***");
	str_case("\"apiKey\": \"unterminated", "\"apiKey\": \"***");
	return CHECK_DONE();
}
