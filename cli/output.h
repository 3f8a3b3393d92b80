/* Printing results and claims for people (text) and programs (--json). */
#ifndef CVMA_CLI_OUTPUT_H
#define CVMA_CLI_OUTPUT_H

#include <stdio.h>

#include <jansson.h>

#include "result/result.h"

/* Prints res as JSON or as text; false (said on stderr) when the JSON could not be made or the
 * result could not be written whole. */
bool cvma_print_result(const struct cvma_result *res, bool json, FILE *f);
/* Writes o as indented JSON (its keys in order) and a newline to f, then flushes f; false (said
 * on stderr) when it could not be written whole: a full disk or a closed pipe is an error, never
 * exit 0 over half a document. */
bool cvma_print_json(const json_t *o, FILE *f);
/* Flushes f; false (said on stderr) when anything written to it since it was opened was lost. */
bool cvma_print_flush(FILE *f);
/* Writes s to f, each byte that could steer a terminal as \xNN (cvma_text_escape): for
 * text from evidence, a peer or a registry. */
void cvma_put_text(const char *s, FILE *f);
/* Prints a JSON object as indented "key: value" lines (its keys and strings through
 * cvma_put_text). */
void cvma_print_fields(const json_t *o, int indent, FILE *f);

#endif
