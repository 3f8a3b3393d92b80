/*
 * cvmattest demo (cmd_demo.c): the pieces of the story that run attested TLS in-process
 * (demo_atls.c) and the verification service as a child process (demo_serve.c), and the one
 * line a step prints (demo_report).
 */
#ifndef CVMA_CLI_DEMO_H
#define CVMA_CLI_DEMO_H

#include <stdbool.h>
#include <stddef.h>

#include "cvmattest/cvmattest.h"

struct demo {
    char dir[64];
    int steps;
    int failures;
};

/* What a step expects: accepted (✓: affirming or warning) or refused (✗), and reason codes the
 * result must hold. A refused step must be refused by one of them (of severity error) and by no
 * other error. */
#define DEMO_WANT_MAX 4
struct demo_want {
    bool accept;
    const char *reasons[DEMO_WANT_MAX]; /* NULL-terminated when fewer */
};

extern const char demo_ok_mark[], demo_no_mark[]; /* ✓ ✗ in UTF-8 */

/*
 * Prints a step's line from a result JSON (docs/results.md; the service's answer too): ✓ or ✗,
 * the status, the provider, region and platform; refused, every error (what refused it) then
 * the other reasons wanted; accepted, the reasons wanted (or the warnings). Then compares the
 * verdict with want (struct demo_want) and counts a failure, printing UNEXPECTED, when it
 * differs.
 * result_json NULL: the step could not run (why says it). Returns true when as wanted.
 */
bool demo_report(struct demo *d, const char *label, const char *result_json,
                 const struct demo_want *want, const char *why);

/* A line of a step that is not a verification: ok true gives ✓, else ✗ and a failure. */
void demo_line(struct demo *d, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* One attested-TLS connection in-process: a server thread on a loopback port, evidence from
 * the simulator's directories, and a client on this thread verifying with v. */
struct demo_atls {
    /* in */
    const char *dirs[2]; /* simulator directories (--keep-keys); attestation i from */
    size_t n_dirs;       /* dirs[i / switch_after] (switch_after 0: dirs[0]) */
    unsigned switch_after;
    struct cvma_verifier *v;
    unsigned rounds;    /* attestations on the connection (more than 1: a lease, renewed) */
    unsigned lease_ms;  /* the lease: time between attestations */
    bool test_no_close; /* tests only: the client leaves the connection open after a refusal */
    /* out */
    char *results[4]; /* the result JSON of each attestation the client verified */
    unsigned n_results;
    bool refused;        /* the client refused an attestation (and closed the connection) */
    char reply[64];      /* the server's answer to the client's application data */
    char server_saw[96]; /* the ERROR frame the server received */
    bool server_closed;  /* the server saw the client close the connection soon after it: nothing
                          * after the ERROR, not its time-out, not the harness's own close */
    char err[256];       /* why it could not run */
};

/* Runs it. False (err) when it could not run; the verdicts are in results. */
bool demo_atls_run(struct demo_atls *a);
/* Why attestation i has no result (results[i] unset): err when set, "not attempted: lease i was
 * refused" when the one before refused, else "no result". Written to buf; returns buf. */
const char *demo_atls_why(const struct demo_atls *a, unsigned i, char *buf, size_t cap);
void demo_atls_free(struct demo_atls *a);

/* The verification service, `cvmattest serve`, as a child process on a free loopback port. */
struct demo_service_opts {
    const char *sim_dir; /* the evidence: the simulator's directory (--keep-keys) */
    const char *root;    /* its trust root */
    const char *policy, *provider, *registry;
    const char *sign_key, *sign_pub; /* the result-signing key pair */
};

/* Starts the service, GET /v1/nonce, POST /v1/verify, checks the token; prints its lines. */
void demo_service(struct demo *d, const struct demo_service_opts *o);

#endif
