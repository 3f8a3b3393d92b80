/*
 * cvmattest registry log check: the monitor. Fetches every tile of a log (a directory or a
 * static web server), recomputes the root, checks every entry is a registry validly signed by
 * the one provider with increasing versions, and reports each fleet change. With --state DIR
 * it remembers the checkpoint it verified and holds the next run's log to it: the same tree,
 * or one that grew from it (its first entries hash to it), else a split view, kept as
 * evidence.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmd_registry.h"
#include "common/util.h"
#include "common/verdict.h"
#include "tlog/tlog.h"

const char cvma_reglog_check_usage[] =
        "  log check --log DIR|URL --vkey NAME.vkey --provider NAME=PUB\n"
        "            [--witness-vkey W.vkey]... [--witnesses K] [--state DIR] [--quiet]\n"
        "        the monitor: recomputes every tile and the root, checks every registry, and\n"
        "        prints the platforms each version adds and removes (exit 1 on any mismatch);\n"
        "        with --witness-vkey the checkpoint must be cosigned by K of them (default: all);\n"
        "        with --state the log must be the one verified last time or have grown from it\n"
        "        (exit 1: SPLIT VIEW, both checkpoints kept in DIR; or a smaller checkpoint)\n";

struct walk {
    FILE *out; /* the change lines, held until the log is accepted (in memory) */
    struct cvma_reg_provider prov;
    struct cvma_registry prev;
    bool have_prev;
    bool quiet;
};

static void print_entry(FILE *out, char sign, uint64_t version, const struct cvma_reg_entry *e)
{
    char id[CVMA_REG_CSP_MAX + 2 * CVMA_REG_CHIP_ID_LEN + 1];
    cvma_reg_entry_id_string(e, id, sizeof id);
    fprintf(out, "version %" PRIu64 ": %c %s %s %s\n", version, sign,
            cvma_reg_vendor_name((enum cvma_reg_vendor)e->vendor),
            cvma_reg_id_type_name((enum cvma_reg_id_type)e->id_type), id);
}

static int on_entry(void *ctx, uint64_t index, const uint8_t *p, size_t len)
{
    struct walk *w = ctx;
    struct cvma_registry r;
    struct cvma_verdict v;
    char origin[48];
    int rc = 1;

    memset(&r, 0, sizeof r);
    cvma_verdict_init(&v);
    snprintf(origin, sizeof origin, "entry %" PRIu64, index);
    if (cvma_registry_verify(p, len, origin, &w->prov, 1, &r, &v) != CVMA_OK) {
        cvma_cli_err("cvmattest registry log check: entry %" PRIu64 ": %s: %s\n", index,
                     v.n_reasons > 0 ? cvma_reason_name(v.reasons[0].code) : "refused",
                     v.n_reasons > 0 ? v.reasons[0].detail : "");
        goto out;
    }
    if (w->have_prev && r.version <= w->prev.version) {
        cvma_cli_err("cvmattest registry log check: entry %" PRIu64 ": version %" PRIu64
                     " after version %" PRIu64 "\n",
                     index, r.version, w->prev.version);
        goto out;
    }
    if (!w->quiet) {
        if (!r.has_entries) {
            fprintf(w->out,
                    "version %" PRIu64 ": root-only registry, %" PRIu64
                    " platforms (changes not visible)\n",
                    r.version, r.leaf_count);
        } else {
            /* Both lists are in tree order: one merge finds what came and what went. */
            const struct cvma_reg_entries *a =
                    w->have_prev && w->prev.has_entries ? &w->prev.entries : NULL;
            size_t i = 0, k = 0, na = a != NULL ? a->n : 0;
            while (i < na || k < r.entries.n) {
                int cmp = i == na            ? 1
                          : k == r.entries.n ? -1
                                             : cvma_reg_entry_cmp(&a->v[i], &r.entries.v[k]);
                if (cmp < 0) {
                    print_entry(w->out, '-', r.version, &a->v[i++]);
                } else if (cmp > 0) {
                    print_entry(w->out, '+', r.version, &r.entries.v[k++]);
                } else {
                    i++;
                    k++;
                }
            }
        }
    }
    cvma_registry_cleanup(&w->prev);
    w->prev = r; /* w owns it now */
    memset(&r, 0, sizeof r);
    w->have_prev = true;
    rc = 0;
out:
    cvma_registry_cleanup(&r);
    cvma_verdict_cleanup(&v);
    return rc;
}

int cvma_reglog_check(int argc, char **argv)
{
    enum { O_LOG = 256, O_VKEY, O_PROVIDER, O_QUIET, O_WITNESS_VKEY, O_WITNESSES, O_STATE };
    enum { WITNESSES_MAX = 16 };
    static const struct option opts[] = {
            {"log", required_argument, NULL, O_LOG},
            {"vkey", required_argument, NULL, O_VKEY},
            {"provider", required_argument, NULL, O_PROVIDER},
            {"quiet", no_argument, NULL, O_QUIET},
            {"witness-vkey", required_argument, NULL, O_WITNESS_VKEY | CVMA_CLI_MANY},
            {"witnesses", required_argument, NULL, O_WITNESSES},
            {"state", required_argument, NULL, O_STATE},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *src = NULL, *vkeyf = NULL, *prov_spec = NULL, *wfiles[WITNESSES_MAX];
    const char *state = NULL;
    struct cvma_note_vkey vk, wit[WITNESSES_MAX];
    size_t n_wit = 0;
    uint64_t need = 0;
    bool have_need = false;
    struct cvma_checkpoint cp, prev;
    struct cvma_buf note = {0};
    struct cvma_merkle tree;
    enum cvma_tlog_seen seen = CVMA_TLOG_SEEN_FIRST;
    struct walk w;
    char err[640]; /* two key names of up to 255 bytes each */
    char detail[2048];
    char *changes = NULL;
    size_t changes_len = 0;
    int rc = EXIT_USAGE, c;
    enum cvma_status st;

    memset(&w, 0, sizeof w);
    memset(&tree, 0, sizeof tree);
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case O_LOG:
            src = optarg;
            break;
        case O_VKEY:
            vkeyf = optarg;
            break;
        case O_PROVIDER:
            prov_spec = optarg;
            break;
        case O_QUIET:
            w.quiet = true;
            break;
        case O_WITNESS_VKEY:
            if (n_wit == WITNESSES_MAX) {
                return cvma_reglog_usage_error("check", "too many --witness-vkey options");
            }
            wfiles[n_wit++] = optarg;
            break;
        case O_WITNESSES:
            if (!cvma_cli_uint(optarg, 1, WITNESSES_MAX, &need)) {
                return cvma_reglog_usage_error("check", "--witnesses wants 1..16");
            }
            have_need = true;
            break;
        case O_STATE:
            state = optarg;
            break;
        case 'h':
            cvma_reglog_help(cvma_reglog_check_usage);
            return EXIT_OK;
        default:
            return cvma_reglog_bad_option("check", c, argv);
        }
    }
    if (src == NULL || vkeyf == NULL || prov_spec == NULL || optind < argc) {
        return cvma_reglog_usage_error("check", "--log, --vkey and --provider are required");
    }
    if (have_need && need > n_wit) {
        return cvma_reglog_usage_error("check", "--witnesses above the number of --witness-vkey");
    }
    if (cvma_note_vkey_load(vkeyf, &vk, err, sizeof err) != CVMA_OK) {
        cvma_cli_err("cvmattest registry log check: %s\n", err);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < n_wit; i++) {
        if (cvma_note_witness_vkey_load(wfiles[i], &wit[i], err, sizeof err) != CVMA_OK) {
            cvma_cli_err("cvmattest registry log check: %s\n", err);
            return EXIT_USAGE;
        }
        /* as verify refuses them: the log's own key, a witness given twice */
        if (cvma_tlog_witness_key_check(&wit[i], &vk, wit, i, err, sizeof err) !=
            CVMA_WITNESS_KEY_OK) {
            cvma_cli_err("cvmattest registry log check: %s\n", err);
            return EXIT_USAGE;
        }
    }
    if ((w.prov.key = cvma_reglog_provider_key("check", prov_spec, w.prov.name,
                                               sizeof w.prov.name)) == NULL) {
        return EXIT_USAGE;
    }
    /* The change lines are printed only once the log is accepted, after the state check: a
     * script reading them never sees the changes of a log then refused (a bad entry, a split
     * view, a smaller checkpoint than the one seen). */
    if ((w.out = open_memstream(&changes, &changes_len)) == NULL) {
        cvma_cli_err("cvmattest registry log check: out of memory\n");
        goto out;
    }
    st = cvma_tlog_monitor(src, &vk, wit, n_wit, (size_t)need, on_entry, &w, &cp,
                           state != NULL ? &note : NULL, state != NULL ? &tree : NULL, err,
                           sizeof err);
    if (st != CVMA_OK) {
        cvma_cli_err("cvmattest registry log check: '%s': %s\n", src,
                     st == CVMA_E_NOMEM ? "out of memory" : err);
        rc = st == CVMA_REJECTED ? EXIT_REJECTED : EXIT_USAGE;
        goto out;
    }
    /* The log as verified now against the one verified last time: the monitor holds every
     * entry, so the root of the size seen then is computed here, no proof needed. */
    if (state != NULL) {
        st = cvma_tlog_monitor_state(state, &vk, &cp, note.p, note.len, &tree, &seen, &prev, detail,
                                     sizeof detail);
        if (st != CVMA_OK) {
            cvma_cli_err("cvmattest registry log check: --state '%s': %s\n", state,
                         st == CVMA_E_NOMEM ? "out of memory" : detail);
            goto out;
        }
        if (seen == CVMA_TLOG_SEEN_SPLIT || seen == CVMA_TLOG_SEEN_SHRANK) {
            cvma_cli_err("cvmattest registry log check: %s%s\n",
                         seen == CVMA_TLOG_SEEN_SPLIT ? "SPLIT VIEW: " : "", detail);
            rc = EXIT_REJECTED;
            goto out;
        }
    }
    if (fclose(w.out) != 0) {
        w.out = NULL;
        cvma_cli_err("cvmattest registry log check: out of memory\n");
        goto out;
    }
    w.out = NULL;
    fwrite(changes, 1, changes_len, stdout);
    printf("log %s: %" PRIu64 " registries, every tile and the root verified%s", cp.origin, cp.size,
           w.have_prev ? "" : " (empty)");
    if (n_wit > 0) {
        printf(", cosigned by at least %zu of the %zu witnesses given",
               have_need ? (size_t)need : n_wit, n_wit);
    }
    if (state != NULL) {
        printf("; %s", detail);
    }
    printf("\n");
    rc = EXIT_OK;
out:
    if (w.out != NULL) {
        fclose(w.out);
    }
    free(changes);
    cvma_buf_free(&note);
    cvma_merkle_cleanup(&tree);
    cvma_registry_cleanup(&w.prev);
    EVP_PKEY_free(w.prov.key);
    return rc;
}
