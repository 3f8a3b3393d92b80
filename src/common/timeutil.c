#include "common/timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), H. Hinnant's algorithm. */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool cvma_time_parse_rfc3339(const char *s, time_t *out)
{
    return cvma_time_parse_rfc3339_why(s, out) == CVMA_TIME_PARSED;
}

enum cvma_time_parse cvma_time_parse_rfc3339_why(const char *s, time_t *out)
{
    int Y, M, D, h = 0, mi = 0, sec = 0, off = 0;
    size_t n = strlen(s);
    *out = 0;
    if (n < 10 || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) || s[7] != '-' ||
        !digits(s + 8, 2, &D)) {
        return CVMA_TIME_MALFORMED;
    }
    if (M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M)) {
        return CVMA_TIME_MALFORMED;
    }
    const char *p = s + 10;
    if (*p == '\0') {
        return CVMA_TIME_MALFORMED; /* a bare date is no date-time: which second of it was meant? */
    }
    if ((*p != 'T' && *p != 't' && *p != ' ') || strlen(p) < 9 || !digits(p + 1, 2, &h) ||
        p[3] != ':' || !digits(p + 4, 2, &mi) || p[6] != ':' || !digits(p + 7, 2, &sec)) {
        return CVMA_TIME_MALFORMED;
    }
    if (h > 23 || mi > 59 || sec > 60) {
        return CVMA_TIME_MALFORMED;
    }
    p += 9;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') {
            return CVMA_TIME_MALFORMED;
        }
        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (strlen(p) < 6 || !digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) ||
            oh > 23 || om > 59) {
            return CVMA_TIME_MALFORMED;
        }
        off = (oh * 60 + om) * 60 * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return CVMA_TIME_MALFORMED;
    }
    if (*p != '\0') {
        return CVMA_TIME_MALFORMED;
    }
    /* A leap second only ends a UTC day (23:59:60Z, or that instant at an offset): it is
     * then the next day's first second, as POSIX time counts it. */
    if (sec == 60 && (((h * 60 + mi - off / 60) % 1440) + 1440) % 1440 != 1439) {
        return CVMA_TIME_MALFORMED;
    }
    long long t = days_from_civil(Y, M, D) * 86400LL + h * 3600 + mi * 60 + sec - off;
    /* The instant, after its offset, from 1970 to the end of 9999 (UTC): before 1970 is no
     * time a verification, a collateral or a registry can have (a negative time_t formats as
     * no RFC 3339 date), and after 9999 none that RFC 3339 can write again. */
    if (t < 0 || t > CVMA_TIME_MAX) {
        return CVMA_TIME_OUT_OF_RANGE;
    }
    *out = (time_t)t;
    return CVMA_TIME_PARSED;
}

void cvma_time_format(time_t t, char *out, size_t out_size)
{
    struct tm tm;
    /* RFC 3339 has four-digit years: anything else is not written as a date */
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year < 1000 - 1900 || tm.tm_year > 9999 - 1900 ||
        strftime(out, out_size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, out_size, "invalid-time");
    }
}

int64_t cvma_monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void cvma_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* see common/timeutil.h */
enum cvma_next_update cvma_next_update_judge(int64_t next_update, int64_t at, int64_t grace)
{
    if (at <= next_update) {
        return CVMA_NEXT_UPDATE_VALID;
    }
    /* Subtracted only once at is known to be later: no overflow for any two times. */
    if (grace > 0 && (uint64_t)at - (uint64_t)next_update <= (uint64_t)grace) {
        return CVMA_NEXT_UPDATE_GRACE;
    }
    return CVMA_NEXT_UPDATE_PAST;
}
