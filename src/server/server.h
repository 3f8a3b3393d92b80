/*
 * The verification service (`cvmattest serve`, docs/service.md): libmicrohttpd with a thread
 * pool in front of one verifier shared by every worker. Endpoints: GET /v1/nonce, POST
 * /v1/verify, GET /v1/keys, GET /healthz, GET /metrics.
 */
#ifndef CVMA_SERVER_SERVER_H
#define CVMA_SERVER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmattest/cvmattest.h"
#include "server/nonce.h"

struct cvma_server_config {
    const char *listen;              /* "HOST:PORT" (IPv4 or [IPv6]); port 0: the OS picks */
    unsigned threads;                /* worker threads; 0: 4 */
    size_t max_body;                 /* bytes; 0: 1 MiB */
    unsigned timeout;                /* seconds a client may stay idle, and within which a
                                      * request's body must be whole; 0: 30 */
    int64_t nonce_ttl;               /* seconds a nonce is valid; 0: 300 */
    int64_t token_ttl;               /* seconds a token is valid (exp); 0: 300 */
    unsigned drain;                  /* seconds SIGTERM waits for requests in flight; 0: 30 */
    long per_ip_connections;         /* connections at once from one IP address (at most
                                      * CVMA_SERVE_CONNECTIONS_MAX); 0: 64; negative: no
                                      * limit */
    struct cvma_nonce_key nonce_key; /* len 0: random, this instance only; a fixed key only
                                      * with redis_url (cmd_serve refuses it without) */
    const char *redis_url;           /* NULL: spent nonces in memory */
    const char *redis_password;      /* Redis's AUTH password (NULL: none) */
    const char *redis_ca_file;       /* rediss://: server/redis_pool.h (NULL: none) */
    const char *redis_cert_file;
    const char *redis_key_file;
    const char *tls_cert_file; /* both or neither: HTTPS */
    const char *tls_key_file;
    const char *port_file; /* when set, the bound port is written there */
};

/* Connections at once, from all clients. */
#define CVMA_SERVE_CONNECTIONS_MAX 1024

/* The HTTPS listener's GnuTLS priority string: GnuTLS's NORMAL suites, TLS 1.2 and 1.3 only
 * (RFC 8996: not 1.0 nor 1.1). */
#define CVMA_SERVE_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/*
 * Serves until SIGTERM or SIGINT, then stops accepting, lets the requests in flight finish
 * (at most cfg->drain seconds; a further SIGTERM or SIGINT meanwhile does not stop it) and
 * returns 0, leaving SIGTERM and SIGINT ignored. Returns 2 with err when it cannot start.
 * The caller keeps v alive until this returns.
 */
int cvma_server_run(struct cvma_verifier *v, const struct cvma_server_config *cfg, char *err,
                    size_t err_len);

#endif
