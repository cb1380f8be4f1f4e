/*
 * epoll_floor - the floor of any HTTP/1.1 server on this machine: one epoll
 * loop on one thread that, per request, does one read and one write of a
 * fixed answer (the gateway's cached REST reply, headers included) and
 * nothing else - no parsing beyond finding the end of the head. The REST
 * hit benchmark compares the gateway against it (issue 17).
 *
 *   epoll_floor --listen 127.0.0.1:0 --reply FILE
 *   prints {"event":"ready","port":N}
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *listen_at = "127.0.0.1:0", *reply_file = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--listen") == 0)
            listen_at = argv[i + 1];
        else if (strcmp(argv[i], "--reply") == 0)
            reply_file = argv[i + 1];
    }
    static char reply[1 << 20];
    size_t reply_len = 0;
    FILE *f = reply_file ? fopen(reply_file, "rb") : NULL;
    if (!f)
        return 2;
    reply_len = fread(reply, 1, sizeof(reply), f);
    fclose(f);
    char host[64];
    int port = 0;
    if (sscanf(listen_at, "%63[^:]:%d", host, &port) != 2)
        return 2;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    socklen_t al = sizeof(a);
    if (bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 1024) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) != 0)
        return 1;
    printf("{\"event\":\"ready\",\"port\":%d}\n", ntohs(a.sin_port));
    fflush(stdout);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    static char buf[65536];
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int c;
                while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            ssize_t r = read(fd, buf, sizeof(buf));
            if (r <= 0) {
                close(fd);
                continue;
            }
            /* one answer per request head in what arrived (pipelining) */
            for (ssize_t k = 3; k < r; k++)
                if (buf[k] == '\n' && buf[k - 1] == '\r' && buf[k - 2] == '\n' &&
                    buf[k - 3] == '\r')
                    if (write(fd, reply, reply_len) < 0)
                        break;
        }
    }
}
