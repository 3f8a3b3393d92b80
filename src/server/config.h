/*
 * The service's configuration file (`cvmattest serve --config FILE`, docs/service.md
 * "Configuration file"), read from its bytes: the settings of one verifier and of the server.
 * The command line's options add to what it gives (lists, policies) or override it; cmd_serve
 * keeps both in one struct cvma_serve_config.
 *
 * What it trusts: nothing in the text. Every member is of a known name and type, every limit
 * within the command line's bounds (threads 1..256, timeout and drain 1..3600 seconds,
 * max_body, nonce_ttl and token_ttl 1..1000000000, per_ip_connections 0..1024 and
 * fetch_budget 0..100000 with 0 for no limit), and no list or name table overflows: a
 * setting is never dropped silently. Paths are taken as they are (the verifier opens them).
 */
#ifndef CVMA_SERVER_CONFIG_H
#define CVMA_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "cvmattest/cvmattest.h"
#include "server/server.h"

#define CVMA_SERVE_LIST_MAX             16 /* trust roots, providers, registries, policies */
#define CVMA_SERVE_OWNED_MAX            (8 * CVMA_SERVE_LIST_MAX)
#define CVMA_SERVE_THREADS_MAX          256
#define CVMA_SERVE_SECONDS_MAX          3600 /* timeout, drain */
#define CVMA_SERVE_NUMBER_MAX           1000000000
#define CVMA_SERVE_FETCH_BUDGET_MAX     100000
#define CVMA_SERVE_FETCH_BUDGET_DEFAULT 60 /* collateral downloads a minute */

struct cvma_serve_config {
    struct cvma_verifier_config vc;
    struct cvma_server_config sc;
    const char *roots[CVMA_SERVE_LIST_MAX], *providers[CVMA_SERVE_LIST_MAX],
            *registries[CVMA_SERVE_LIST_MAX];
    struct cvma_policy_config policies[CVMA_SERVE_LIST_MAX];
    const char *nonce_key_file;
    const char *redis_password_file;
    long fetch_budget;                 /* collateral downloads a minute: 0 the default
                                        * (CVMA_SERVE_FETCH_BUDGET_DEFAULT), negative no limit; into
                                        * vc.fetch_budget_per_minute by cvma_serve_config_fetch_budget */
    char *owned[CVMA_SERVE_OWNED_MAX]; /* strings made here (paths, policy names) */
    size_t n_owned;
    bool no_room;   /* a string could not be kept: the command stops (exit 2) */
    bool no_memory; /* ... because memory ran out */
    char no_room_why[160];
};

/* Sets s->vc.fetch_budget_per_minute from s->fetch_budget (its default, or no limit). */
void cvma_serve_config_fetch_budget(struct cvma_serve_config *s);

/* Frees the strings kept (the struct's pointers to them are left dangling: end of use). */
void cvma_serve_config_cleanup(struct cvma_serve_config *s);

/*
 * Keeps p (made by the caller, NULL: out of memory) until cvma_serve_config_cleanup. NULL
 * when it cannot (p freed): no_room is set and no_room_why says why ("out of memory", or the
 * limit of CVMA_SERVE_OWNED_MAX strings).
 */
const char *cvma_serve_config_keep(struct cvma_serve_config *s, char *p);
/* Appends v to list (n entries, at most CVMA_SERVE_LIST_MAX); false when full or v NULL. */
bool cvma_serve_config_add(const char **list, size_t *n, const char *v);
/* What cvma_serve_config_add_policy did. */
enum cvma_serve_policy_add {
    CVMA_SERVE_POLICY_ADDED,
    CVMA_SERVE_POLICY_FULL,  /* the table is full */
    CVMA_SERVE_POLICY_TWICE, /* a policy of that name is there already: never replaced, since a
                              * policy silently dropped (a strict one for a loose one given
                              * later) would appraise requests by the other */
};
/* NAME=PATH into the policy table (name "" is the default policy). */
enum cvma_serve_policy_add cvma_serve_config_add_policy(struct cvma_serve_config *s,
                                                        const char *name, const char *path);

/*
 * Reads the configuration file's text (file: its name, for messages and for the folder that
 * relative paths are relative to) into s, adding to what s holds. CVMA_OK; CVMA_E_USAGE with
 * err when it is not a JSON object or a member is unknown, of the wrong type, out of range or
 * too long a list, or the strings kept reached their limit (s->no_room set, err is
 * no_room_why); CVMA_E_NOMEM. What was read before the refusal stays in s (the command
 * stops).
 */
CVMA_MUST_USE enum cvma_status cvma_serve_config_read(struct cvma_serve_config *s,
                                                      const uint8_t *text, size_t len,
                                                      const char *file, char *err, size_t err_len);

/*
 * serve --redis-password-file FILE: the Redis AUTH password, the file's first line without
 * its "\n" or "\r\n", into *out (malloc'd; the caller wipes and frees it with
 * cvma_str_free_secret). At most CVMA_SERVE_REDIS_PASSWORD_MAX bytes, not empty, and nothing after
 * the first line (a second line is more likely a wrong file than a password). NULL when read, else
 * why not in English (*out NULL). Whatever was read is wiped before it is freed, on every
 * path (too long, unreadable, refused, out of memory).
 */
#define CVMA_SERVE_REDIS_PASSWORD_MAX 1024
const char *cvma_serve_redis_password_read(const char *file, char **out);

#endif
