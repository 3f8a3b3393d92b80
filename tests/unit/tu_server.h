/*
 * Tests: a local stand-in server (tests/kds_server.py, tests/pcs_server.py) run as a child
 * process that prints the port it listens on (127.0.0.1, chosen by the OS) as its first line.
 */
#ifndef CVMA_TESTS_TU_SERVER_H
#define CVMA_TESTS_TU_SERVER_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

/* Seconds on the monotonic clock. */
static inline double tu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A stand-in server's command line into argv (room for cap, NULL-terminated): python3 script
 * --dir dir --max-seconds 60 (it exits by itself after that), then --log log unless log is NULL
 * (the server writes a line there per request: tu_log_lines), then the NULL-terminated extra
 * arguments (extra may be NULL). The count of arguments. */
static inline size_t tu_server_argv(const char **argv, size_t cap, const char *script,
                                    const char *dir, const char *log, const char *const *extra)
{
    size_t n = 0;
    assert_true(cap >= 9);
    argv[n++] = "python3";
    argv[n++] = script;
    argv[n++] = "--dir";
    argv[n++] = dir;
    argv[n++] = "--max-seconds";
    argv[n++] = "60";
    if (log != NULL) {
        argv[n++] = "--log";
        argv[n++] = log;
    }
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
        assert_true(n < cap - 1);
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    return n;
}

/* Runs argv (NULL-terminated; argv[0] found on PATH) with its stdout on a pipe; *pid is the
 * child. The port of its first line, or 0 when none came within 10 s (the child may still run:
 * tu_server_stop). */
static inline int tu_server_start(const char *const *argv, pid_t *pid)
{
    int pfd[2];
    char line[32];
    size_t got = 0;
    double deadline = tu_now() + 10.0;

    assert_int_equal(pipe(pfd), 0);
    *pid = fork();
    assert_true(*pid >= 0);
    if (*pid == 0) {
        union {
            const char *const *c;
            char *const *m;
        } a = {.c = argv};
        dup2(pfd[1], STDOUT_FILENO);
        close(pfd[0]);
        close(pfd[1]);
        execvp(argv[0], a.m);
        _exit(127);
    }
    close(pfd[1]);
    while (got < sizeof line - 1) {
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int ms = (int)((deadline - tu_now()) * 1000);
        if (ms <= 0) {
            break;
        }
        int r = poll(&p, 1, ms);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0 || read(pfd[0], line + got, 1) != 1) {
            break;
        }
        if (line[got] == '\n') {
            break;
        }
        got++;
    }
    line[got] = '\0';
    close(pfd[0]);
    char *end = NULL;
    long port = strtol(line, &end, 10);
    return end != line && *end == '\0' && port > 0 && port < 65536 ? (int)port : 0;
}

/* SIGTERM, at most 5 s to exit, then SIGKILL; *pid = 0 (nothing when it is 0 already). */
static inline void tu_server_stop(pid_t *pid)
{
    if (*pid <= 0) {
        return;
    }
    kill(*pid, SIGTERM);
    for (int i = 0; i < 500; i++) {
        if (waitpid(*pid, NULL, WNOHANG) == *pid) {
            *pid = 0;
            return;
        }
        usleep(10000);
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = 0;
}

/* The number of lines in a stand-in server's request log (0 when it cannot be read). */
static inline int tu_log_lines(const char *log)
{
    struct cvma_buf b = {0};
    int n = 0;
    if (cvma_file_read(log, 1 << 20, &b) != CVMA_OK) {
        return 0;
    }
    for (size_t i = 0; i < b.len; i++) {
        n += b.p[i] == '\n';
    }
    cvma_buf_free(&b);
    return n;
}

#endif
