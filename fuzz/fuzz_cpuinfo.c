/*
 * libFuzzer target: cvma_cpuinfo_has_flag (collect/collect.h), the guest probe's reading of
 * a cpuinfo file (guest-check --cpuinfo), on the text exactly as the probe builds it ('\n',
 * the file's bytes, '\0'). Held against a second reading written here another way (the line
 * copied out, then split with strspn/strcspn): both must agree for the probe's two flags and
 * for a flag taken from the input.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool reference(const char *text, const char *flag)
{
    const char *line = strstr(text, "\nflags");
    if (line == NULL) {
        return false;
    }
    line += strlen("\nflags");
    size_t n = strcspn(line, "\n");
    char *copy = malloc(n + 1);
    bool found = false;
    if (copy == NULL) {
        abort();
    }
    memcpy(copy, line, n);
    copy[n] = '\0';
    const char *p = copy + strspn(copy, " \t");
    if (*p == ':') {
        for (p++; *p != '\0';) {
            p += strspn(p, " \t");
            size_t w = strcspn(p, " \t");
            if (w > 0 && w == strlen(flag) && strncmp(p, flag, w) == 0) {
                found = true;
            }
            p += w;
        }
    }
    free(copy);
    return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 2);
    char flag[16];
    if (text == NULL) {
        return 0;
    }
    text[0] = '\n';
    memcpy(text + 1, data, size);
    text[size + 1] = '\0';
    /* a flag from the input: its first bytes up to a blank, a newline or a NUL (never empty:
     * an empty name is not a flag, and both readings would answer for it differently) */
    size_t fl = 0;
    while (fl < size && fl < sizeof flag - 1 && data[fl] != ' ' && data[fl] != '\t' &&
           data[fl] != '\n' && data[fl] != '\0') {
        flag[fl] = (char)data[fl];
        fl++;
    }
    flag[fl] = '\0';
    const char *flags[] = {"sev_snp", "tdx_guest", fl > 0 ? flag : "fpu"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (cvma_cpuinfo_has_flag(text, flags[i]) != reference(text, flags[i])) {
            abort();
        }
    }
    free(text);
    return 0;
}
