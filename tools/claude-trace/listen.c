/*
 * --listen ADDR:PORT: GET /metrics in watch mode, for a Prometheus server
 * to scrape. Loopback unless an address is given. One request at a time,
 * each with a 2 s budget, between frames: a slow or hostile client can
 * delay a frame by that much, never stop the watch.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "exitcode.h"
#include "msg.h"
#include "trace.h"
#include "units.h"

#define REQ_MAX 8192
#define REQ_BUDGET_MS 2000

int
listen_open(const char *spec)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE |
		AI_NUMERICSERV }, *res = NULL;
	char *host, *port, *dup = xstrdup(spec), *colon = strrchr(dup, ':');
	char buf[NI_MAXHOST], pbuf[NI_MAXSERV];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd, one = 1, e;

	if (colon == NULL) {
		host = "127.0.0.1";
		port = dup;
	} else {
		*colon = '\0';
		host = dup;
		port = colon + 1;
		/* [::1]:9100 */
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			host[strlen(host) - 1] = '\0';
			host++;
		}
		if (*host == '\0')
			host = "127.0.0.1";
	}
	cli_long(port, 0, 65535, "--listen port");
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0)
		cli_usage("--listen %s: %s", spec, gai_strerror(e));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, 8) < 0)
		msg_dieerr(CD_EXIT_FAIL, "--listen %s", spec);
	freeaddrinfo(res);
	free(dup);
	/* Port 0 picks one: say which. */
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sl, buf, sizeof(buf), pbuf,
	    sizeof(pbuf), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		msg_warn("metrics on http://%s%s%s:%s/metrics",
		    strchr(buf, ':') ? "[" : "", buf, strchr(buf, ':') ? "]" : "",
		    pbuf);
	return fd;
}

static void
reply(int fd, const char *status, const char *type, const char *body,
    size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, type, len);
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	size_t off = 0, total = (size_t)n + len;

	/* Non-blocking: write what the client takes within the budget. */
	while (off < total && poll(&p, 1, REQ_BUDGET_MS) > 0) {
		ssize_t w = off < (size_t)n ?
		    send(fd, head + off, (size_t)n - off, MSG_NOSIGNAL) :
		    send(fd, body + off - (size_t)n, total - off, MSG_NOSIGNAL);

		if (w <= 0 && errno != EAGAIN && errno != EINTR)
			return;
		if (w > 0)
			off += (size_t)w;
	}
}

/* Read the request head (up to a blank line) within the budget. */
static int
read_head(int fd, char *buf, size_t cap)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t end = now_mono_ns() + REQ_BUDGET_MS * 1000000ULL;
	size_t n = 0;

	while (n < cap - 1) {
		uint64_t now = now_mono_ns();
		ssize_t r;

		if (now >= end || poll(&p, 1, (int)((end - now) / 1000000) + 1) <= 0)
			return -1;
		r = recv(fd, buf + n, cap - 1 - n, 0);
		if (r <= 0) {
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			return -1;
		}
		n += (size_t)r;
		buf[n] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return 0;
	}
	return -1;
}

static void
serve(int cfd, const cJSON *procs)
{
	char req[REQ_MAX], *body = NULL;
	size_t len = 0;
	FILE *mem;
	cJSON *sums;

	if (read_head(cfd, req, sizeof(req)) < 0) {
		reply(cfd, "400 Bad Request", "text/plain", "bad request\n", 12);
		return;
	}
	if (strncmp(req, "GET ", 4) != 0) {
		reply(cfd, "405 Method Not Allowed", "text/plain",
		    "GET only\n", 9);
		return;
	}
	if (strncmp(req + 4, "/metrics ", 9) != 0 &&
	    strncmp(req + 4, "/metrics?", 9) != 0) {
		reply(cfd, "404 Not Found", "text/plain", "try /metrics\n", 13);
		return;
	}
	if ((mem = open_memstream(&body, &len)) == NULL)
		return;
	sums = prom_fd_summaries(procs);
	prom_write(mem, procs, sums);
	cJSON_Delete(sums);
	if (fclose(mem) == 0)
		reply(cfd, "200 OK", "text/plain; version=0.0.4; charset=utf-8",
		    body, len);
	free(body);
}

void
listen_wait(int lfd, uint64_t ns, volatile int *stop, const cJSON *procs)
{
	uint64_t end = now_mono_ns() + ns;
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	while (!*stop) {
		uint64_t now = now_mono_ns();
		int cfd;

		if (now >= end)
			return;
		if (poll(&p, 1, (int)((end - now) / 1000000) + 1) <= 0)
			continue;	/* timeout or a signal: the loop decides */
		cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		serve(cfd, procs);
		close(cfd);
	}
}
