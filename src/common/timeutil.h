/* RFC 3339 times <-> time_t (UTC). */
#ifndef CVMA_COMMON_TIMEUTIL_H
#define CVMA_COMMON_TIMEUTIL_H

#include <time.h>

#include "common/util.h"

/* 9999-12-31T23:59:59Z, the last instant RFC 3339 writes. */
#define CVMA_TIME_MAX 253402300799LL

/*
 * Parses an RFC 3339 date-time, "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" ('t' or a space
 * for the 'T'; a fraction is read and dropped: times here are whole seconds). Returns false
 * on anything else, a bare date "YYYY-MM-DD" included, out-of-range fields and an instant
 * (after its offset) before 1970-01-01T00:00:00Z or after CVMA_TIME_MAX.
 */
CVMA_MUST_USE bool cvma_time_parse_rfc3339(const char *s, time_t *out);
/* The same, saying why not: CVMA_TIME_OUT_OF_RANGE for a well-formed RFC 3339 date-time
 * whose instant is before 1970-01-01T00:00:00Z or after CVMA_TIME_MAX, CVMA_TIME_MALFORMED for
 * anything else refused. *out is set only when CVMA_TIME_PARSED (0 otherwise). */
enum cvma_time_parse { CVMA_TIME_PARSED, CVMA_TIME_MALFORMED, CVMA_TIME_OUT_OF_RANGE };
CVMA_MUST_USE enum cvma_time_parse cvma_time_parse_rfc3339_why(const char *s, time_t *out);
/*
 * A TCB Info's or QE Identity's nextUpdate against a verification time at, with grace seconds
 * (0: none) of the verifier's: CVMA_NEXT_UPDATE_VALID up to and including the nextUpdate
 * second itself (Intel's QVL: expired only when the time is after it), CVMA_NEXT_UPDATE_GRACE
 * when at most grace seconds after it, CVMA_NEXT_UPDATE_PAST later. The one rule for all
 * three sources of that collateral (a directory, the cache, a download). A CRL's nextUpdate is
 * not judged by it: there the nextUpdate second itself is past (RFC 5280 as OpenSSL reads it).
 */
enum cvma_next_update { CVMA_NEXT_UPDATE_VALID, CVMA_NEXT_UPDATE_GRACE, CVMA_NEXT_UPDATE_PAST };
enum cvma_next_update cvma_next_update_judge(int64_t next_update, int64_t at, int64_t grace);
/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into out (at least 21 bytes). */
void cvma_time_format(time_t t, char *out, size_t out_size);
/* CLOCK_MONOTONIC in milliseconds, rounded down: for deadlines and rates, which a wall-clock
 * step must not stretch or cut. */
int64_t cvma_monotonic_ms(void);
/* Sleeps ms milliseconds (>= 0), a signal's interruption resumed. */
void cvma_sleep_ms(long ms);

#endif
