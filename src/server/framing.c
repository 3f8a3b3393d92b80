/*
 * The framing of an HTTP request's body as libmicrohttpd (0.9.75) read its headers, checked for
 * what a proxy in front may read otherwise (request smuggling): shared by `cvmattest serve`
 * (server.c) and `cvmattest witness serve`. See docs/service.md, the BAD_REQUEST row.
 */
#include "server/framing.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The headers that frame a request's body, counted (names are case-blind), and the first
 * header name that is not a token. */
struct framing {
    unsigned content_length;
    unsigned transfer_encoding;
    const char *bad_name; /* NULL: every name is a token */
    size_t bad_name_len;
    bool bad_space;    /* bad_name holds a space or a tab */
    const char *glued; /* the first name that is a framing header's name and more, or NULL */
    size_t glued_len;
};

/* Whether the name key (key_size bytes) begins with name, in any case, and goes on after it. */
static bool name_and_more(const char *key, size_t key_size, const char *name)
{
    size_t n = strlen(name);
    return key_size > n && strncasecmp(key, name, n) == 0;
}

/* RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" /
 * "_" / "`" / "|" / "~" / DIGIT / ALPHA (ASCII, whatever the locale). */
static bool is_tchar(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* MHD_get_connection_values_n: counts the Content-Length and Transfer-Encoding headers, and
 * notes the first name that is not a token (RFC 9110 5.1: field-name = token). libmicrohttpd
 * 0.9.75 takes "Transfer-Encoding : chunked" as a header named "Transfer-Encoding " (the space
 * kept), which no lookup of Transfer-Encoding finds, while a proxy in front may read it as the
 * framing header it nearly is. It also joins a folded line (obs-fold: a header line that
 * begins with a space or a tab, RFC 9112 5.2) to the header's *name*, its leading whitespace
 * dropped: "Content-Length:" then " 43" is a header named "Content-Length43", a token, while
 * a proxy that unfolds it reads Content-Length: 43. So a name that is a framing header's and
 * more is noted too (no client sends such a header). */
static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    struct framing *f = cls;
    (void)kind;
    (void)value;
    (void)value_size;
    if (key == NULL) {
        return MHD_YES;
    }
    bool token = key_size > 0, space = false;
    for (size_t i = 0; i < key_size; i++) {
        unsigned char ch = (unsigned char)key[i];
        token = token && is_tchar(ch);
        space = space || ch == ' ' || ch == '\t';
    }
    if (!token) {
        if (f->bad_name == NULL) {
            f->bad_name = key;
            f->bad_name_len = key_size;
            f->bad_space = space;
        }
    } else if (strcasecmp(key, "Content-Length") == 0) {
        f->content_length++;
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->transfer_encoding++;
    } else if (f->glued == NULL && (name_and_more(key, key_size, "Content-Length") ||
                                    name_and_more(key, key_size, "Transfer-Encoding"))) {
        f->glued = key;
        f->glued_len = key_size;
    }
    return MHD_YES;
}

static bool refused(struct MHD_Connection *c, const char *version, const struct framing *f,
                    char *why, size_t why_len)
{
    if (f->bad_name != NULL) {
        /* RFC 9112 5.1: whitespace between a field name and its colon MUST be answered 400 (a
         * proxy may strip it and take the header for Transfer-Encoding or Content-Length) */
        int n = f->bad_name_len < 64 ? (int)f->bad_name_len : 64;
        if (f->bad_name_len == 0) {
            snprintf(why, why_len, "a header with an empty name");
        } else {
            snprintf(why, why_len, "header name \"%.*s\" is not a token: %s", n, f->bad_name,
                     f->bad_space ? "whitespace in it or before its colon (RFC 9112 5.1)"
                                  : "a byte a field name cannot hold (RFC 9110 5.1)");
        }
        return true;
    }
    if (f->glued != NULL) {
        /* RFC 9112 5.2: a server MUST refuse an obs-fold it does not unfold (400) */
        int n = f->glued_len < 64 ? (int)f->glued_len : 64;
        snprintf(why, why_len,
                 "header name \"%.*s\" is a framing header's name and more: a folded header "
                 "line (obs-fold, RFC 9112 5.2)",
                 n, f->glued);
        return true;
    }
    if (f->content_length > 1) {
        /* libmicrohttpd reads the first; a proxy in front may read the last: two bodies */
        snprintf(why, why_len, "%u Content-Length headers", f->content_length);
        return true;
    }
    if (f->transfer_encoding > 0) {
        /* RFC 9112 6.1 and 6.3: Transfer-Encoding with Content-Length, or in an HTTP/1.0
         * request, is framing a proxy in front may read otherwise (by Content-Length: the rest
         * of the body would pass for a request of its own), and a coding other than chunked
         * alone leaves the body's length unknown; libmicrohttpd follows chunked and keeps the
         * connection. */
        const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
        const char *w = NULL;
        if (f->transfer_encoding > 1) {
            w = "more than one Transfer-Encoding header";
        } else if (f->content_length > 0) {
            w = "Transfer-Encoding with Content-Length";
        } else if (strcmp(version, MHD_HTTP_VERSION_1_0) == 0) {
            w = "Transfer-Encoding in an HTTP/1.0 request";
        } else if (te == NULL || strcasecmp(te, "chunked") != 0) {
            w = "a Transfer-Encoding other than chunked";
        }
        if (w != NULL) {
            snprintf(why, why_len, "%s", w);
            return true;
        }
    }
    return false;
}

/* see server/framing.h */
bool cvma_http_framing_refused(struct MHD_Connection *c, const char *version, char *why,
                               size_t why_len)
{
    struct framing f = {0};
    (void)MHD_get_connection_values_n(c, MHD_HEADER_KIND, count_framing, &f);
    return refused(c, version, &f, why, why_len);
}
