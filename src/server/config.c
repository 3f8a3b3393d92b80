/*
 * The service's configuration file, read from its bytes. See server/config.h.
 */
#include "server/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "collateral/http.h"

/* see server/config.h */
void cvma_serve_config_cleanup(struct cvma_serve_config *s)
{
    for (size_t i = 0; i < s->n_owned; i++) {
        free(s->owned[i]);
        s->owned[i] = NULL;
    }
    s->n_owned = 0;
}

/* see server/config.h */
const char *cvma_serve_config_keep(struct cvma_serve_config *s, char *p)
{
    if (p == NULL) {
        snprintf(s->no_room_why, sizeof s->no_room_why, "out of memory");
        s->no_room = true;
        s->no_memory = true;
        return NULL;
    }
    if (s->n_owned >= CVMA_SERVE_OWNED_MAX) {
        free(p);
        snprintf(s->no_room_why, sizeof s->no_room_why,
                 "too many paths and names from --config files and --named-policy (the limit "
                 "is %d)",
                 CVMA_SERVE_OWNED_MAX);
        s->no_room = true;
        return NULL;
    }
    s->owned[s->n_owned++] = p;
    return p;
}

/* see server/config.h */
bool cvma_serve_config_add(const char **list, size_t *n, const char *v)
{
    if (*n >= CVMA_SERVE_LIST_MAX || v == NULL) {
        return false;
    }
    list[(*n)++] = v;
    return true;
}

/* see server/config.h */
enum cvma_serve_policy_add cvma_serve_config_add_policy(struct cvma_serve_config *s,
                                                        const char *name, const char *path)
{
    for (size_t i = 0; i < s->vc.n_policies; i++) {
        if (strcmp(s->policies[i].name, name) == 0) {
            return CVMA_SERVE_POLICY_TWICE;
        }
    }
    if (s->vc.n_policies >= CVMA_SERVE_LIST_MAX) {
        return CVMA_SERVE_POLICY_FULL;
    }
    s->policies[s->vc.n_policies].name = name;
    s->policies[s->vc.n_policies].path = path;
    s->vc.n_policies++;
    s->vc.policies = s->policies;
    return CVMA_SERVE_POLICY_ADDED;
}

/* A path from the configuration file: relative ones are relative to the file's folder. */
static const char *conf_path(struct cvma_serve_config *s, const char *dir, const char *p)
{
    if (p == NULL) {
        return NULL;
    }
    if (p[0] == '/' || dir == NULL) {
        return cvma_serve_config_keep(s, strdup(p));
    }
    return cvma_serve_config_keep(s, cvma_path_join(dir, p));
}

/* A provider NAME=PUB: the key file relative to the configuration's folder. NULL (ok false)
 * when es has no '='. */
static const char *conf_provider(struct cvma_serve_config *s, const char *dir, const char *es)
{
    const char *eq = strchr(es, '=');
    const char *pub;
    char *nv = NULL;
    if (eq == NULL || (pub = conf_path(s, dir, eq + 1)) == NULL) {
        return NULL;
    }
    if ((nv = malloc((size_t)(eq - es) + strlen(pub) + 2)) != NULL) {
        memcpy(nv, es, (size_t)(eq - es + 1));
        memcpy(nv + (eq - es + 1), pub, strlen(pub) + 1);
    }
    return cvma_serve_config_keep(s, nv);
}

/* see server/config.h */
void cvma_serve_config_fetch_budget(struct cvma_serve_config *s)
{
    s->vc.fetch_budget_per_minute = s->fetch_budget < 0    ? 0u
                                    : s->fetch_budget == 0 ? CVMA_SERVE_FETCH_BUDGET_DEFAULT
                                                           : (unsigned)s->fetch_budget;
}

/* One member of "limits" into s; false when unknown or out of range. */
static bool conf_limit(struct cvma_serve_config *s, const char *ln, const json_t *lv)
{
    json_int_t n = json_integer_value(lv);
    if (strcmp(ln, "per_ip_connections") == 0) {
        /* 0: no limit (kept as negative: 0 in the struct is the default) */
        if (!json_is_integer(lv) || n < 0 || n > CVMA_SERVE_CONNECTIONS_MAX) {
            return false;
        }
        s->sc.per_ip_connections = n == 0 ? -1 : (long)n;
        return true;
    }
    if (strcmp(ln, "fetch_budget") == 0) {
        /* downloads a minute; 0: no limit (kept as negative, as above) */
        if (!json_is_integer(lv) || n < 0 || n > CVMA_SERVE_FETCH_BUDGET_MAX) {
            return false;
        }
        s->fetch_budget = n == 0 ? -1 : (long)n;
        return true;
    }
    if (!json_is_integer(lv) || n < 1 || n > CVMA_SERVE_NUMBER_MAX) {
        return false;
    }
    if (strcmp(ln, "threads") == 0 && n <= CVMA_SERVE_THREADS_MAX) {
        s->sc.threads = (unsigned)n;
    } else if (strcmp(ln, "max_body") == 0) {
        s->sc.max_body = (size_t)n;
    } else if (strcmp(ln, "timeout") == 0 && n <= CVMA_SERVE_SECONDS_MAX) {
        s->sc.timeout = (unsigned)n;
    } else if (strcmp(ln, "drain") == 0 && n <= CVMA_SERVE_SECONDS_MAX) {
        s->sc.drain = (unsigned)n;
    } else if (strcmp(ln, "nonce_ttl") == 0) {
        s->sc.nonce_ttl = n;
    } else if (strcmp(ln, "token_ttl") == 0) {
        s->sc.token_ttl = n;
    } else {
        return false;
    }
    return true;
}

/* see server/config.h */
enum cvma_status cvma_serve_config_read(struct cvma_serve_config *s, const uint8_t *text,
                                        size_t len, const char *file, char *err, size_t err_len)
{
    json_error_t je;
    json_t *c = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &je);
    enum cvma_status st = CVMA_E_USAGE;
    char *dir = NULL;
    if (c == NULL) {
        cvma_errf(err, err_len, "--config '%s': %s (line %d)", file, je.text, je.line);
        goto out;
    }
    if (!json_is_object(c)) {
        /* parsed whole: no line to name (jansson's is -1 then) */
        cvma_errf(err, err_len, "--config '%s': not a JSON object", file);
        goto out;
    }
    const char *slash = strrchr(file, '/');
    if (slash != NULL && (dir = strndup(file, (size_t)(slash - file + (slash == file)))) == NULL) {
        st = CVMA_E_NOMEM;
        cvma_errf(err, err_len, "out of memory");
        goto out;
    }
    const char *k;
    json_t *v;
    json_object_foreach(c, k, v)
    {
        const char *str = json_string_value(v);
        bool ok = true;
        if (strcmp(k, "listen") == 0 && str != NULL) {
            s->sc.listen = cvma_serve_config_keep(s, strdup(str));
        } else if (strcmp(k, "collateral") == 0 && str != NULL) {
            s->vc.collateral_dir = conf_path(s, dir, str);
        } else if (strcmp(k, "offline") == 0 && json_is_boolean(v)) {
            s->vc.offline = json_is_true(v);
        } else if ((strcmp(k, "kds_url") == 0 || strcmp(k, "pcs_url") == 0) && str != NULL &&
                   !cvma_http_base_url_ok(str)) {
            /* as --kds-url / --pcs-url: collateral comes over http:// or https:// only */
            cvma_errf(err, err_len,
                      "--config '%s': %s must be an http:// or https:// URL with a host and no "
                      "user information, query or fragment",
                      file, k);
            goto out;
        } else if (strcmp(k, "kds_url") == 0 && str != NULL) {
            s->vc.kds_base_url = cvma_serve_config_keep(s, strdup(str));
        } else if (strcmp(k, "pcs_url") == 0 && str != NULL) {
            s->vc.pcs_base_url = cvma_serve_config_keep(s, strdup(str));
        } else if (strcmp(k, "cache_dir") == 0 && str != NULL) {
            s->vc.cache_dir = conf_path(s, dir, str);
        } else if (strcmp(k, "result_key") == 0 && str != NULL) {
            s->vc.result_key_file = conf_path(s, dir, str);
        } else if (strcmp(k, "nonce_key") == 0 && str != NULL) {
            s->nonce_key_file = conf_path(s, dir, str);
        } else if (strcmp(k, "redis") == 0 && str != NULL) {
            s->sc.redis_url = cvma_serve_config_keep(s, strdup(str));
        } else if (strcmp(k, "redis_password_file") == 0 && str != NULL) {
            s->redis_password_file = conf_path(s, dir, str);
        } else if (strcmp(k, "redis_ca") == 0 && str != NULL) {
            s->sc.redis_ca_file = conf_path(s, dir, str);
        } else if (strcmp(k, "redis_cert") == 0 && str != NULL) {
            s->sc.redis_cert_file = conf_path(s, dir, str);
        } else if (strcmp(k, "redis_key") == 0 && str != NULL) {
            s->sc.redis_key_file = conf_path(s, dir, str);
        } else if (strcmp(k, "tls_cert") == 0 && str != NULL) {
            s->sc.tls_cert_file = conf_path(s, dir, str);
        } else if (strcmp(k, "tls_key") == 0 && str != NULL) {
            s->sc.tls_key_file = conf_path(s, dir, str);
        } else if ((strcmp(k, "trust_roots") == 0 || strcmp(k, "providers") == 0 ||
                    strcmp(k, "registries") == 0) &&
                   json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
            {
                const char *es = json_string_value(e);
                if (es == NULL) {
                    ok = false;
                } else if (k[0] == 't') {
                    ok = ok && cvma_serve_config_add(s->roots, &s->vc.n_trust_root_files,
                                                     conf_path(s, dir, es));
                } else if (k[0] == 'r') {
                    ok = ok && cvma_serve_config_add(s->registries, &s->vc.n_registries,
                                                     conf_path(s, dir, es));
                } else {
                    ok = ok && cvma_serve_config_add(s->providers, &s->vc.n_providers,
                                                     conf_provider(s, dir, es));
                }
            }
        } else if (strcmp(k, "policies") == 0 && json_is_object(v)) {
            const char *pn;
            json_t *pv;
            json_object_foreach(v, pn, pv)
            {
                const char *ps = json_string_value(pv);
                const char *name = ok && ps != NULL ? cvma_serve_config_keep(s, strdup(pn)) : NULL;
                const char *path = name != NULL ? conf_path(s, dir, ps) : NULL;
                enum cvma_serve_policy_add pa =
                        path != NULL ? cvma_serve_config_add_policy(s, name, path)
                                     : CVMA_SERVE_POLICY_FULL;
                if (pa == CVMA_SERVE_POLICY_TWICE) {
                    cvma_errf(err, err_len,
                              "--config '%s': policies: a policy named \"%s\" was given already "
                              "(in an earlier --config file)",
                              file, pn);
                    goto out;
                }
                ok = pa == CVMA_SERVE_POLICY_ADDED;
            }
        } else if (strcmp(k, "limits") == 0 && json_is_object(v)) {
            const char *ln;
            json_t *lv;
            json_object_foreach(v, ln, lv)
            {
                if (!conf_limit(s, ln, lv)) {
                    cvma_errf(err, err_len, "--config '%s': limits.%s is unknown or out of range",
                              file, ln);
                    goto out;
                }
            }
        } else {
            ok = false;
        }
        if (s->no_room) {
            st = s->no_memory ? CVMA_E_NOMEM : CVMA_E_USAGE;
            cvma_errf(err, err_len, "%s", s->no_room_why);
            goto out;
        }
        if (!ok) {
            cvma_errf(err, err_len,
                      "--config '%s': member \"%s\" is unknown, of the wrong type, or too long a "
                      "list",
                      file, k);
            goto out;
        }
    }
    st = CVMA_OK;
out:
    free(dir);
    json_decref(c);
    return st;
}

/* see server/config.h */
const char *cvma_serve_redis_password_read(const char *file, char **out)
{
    struct cvma_buf b = {0};
    const char *why = NULL;
    size_t n;

    *out = NULL;
    /* Two bytes more for the line end; a longer file is refused with its bytes wiped. */
    enum cvma_status st = cvma_file_read_secret(file, CVMA_SERVE_REDIS_PASSWORD_MAX + 2, &b);
    if (st != CVMA_OK) {
        return st == CVMA_E_NOMEM ? "out of memory"
               : errno == EINVAL  ? "not a regular file"
                                  : "unreadable, or over 1024 bytes";
    }
    n = b.len;
    if (n > 0 && b.p[n - 1] == '\n') {
        n--;
        if (n > 0 && b.p[n - 1] == '\r') {
            n--;
        }
    }
    if (n == 0) {
        why = "empty";
    } else if (n > CVMA_SERVE_REDIS_PASSWORD_MAX) {
        why = "over 1024 bytes";
    } else if (memchr(b.p, '\0', n) != NULL || memchr(b.p, '\n', n) != NULL ||
               memchr(b.p, '\r', n) != NULL) {
        why = "more than one line, or a NUL byte";
    } else if ((*out = strndup((const char *)b.p, n)) == NULL) {
        why = "out of memory";
    }
    cvma_buf_free_secret(&b);
    return why;
}
