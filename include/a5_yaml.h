/* A small, bounded YAML document tree built from libyaml events.
 *
 * Only what scenario files need: mappings, sequences and scalars, each with its
 * 1-based line and column. Hostile input is refused, never expanded: aliases,
 * multiple documents, NUL bytes, nesting deeper than A5_YAML_MAX_DEPTH, more than
 * A5_YAML_MAX_NODES nodes and duplicate mapping keys are errors. */
#ifndef A5_YAML_H
#define A5_YAML_H

#include "a5_error.h"

#include <stddef.h>

#define A5_YAML_MAX_DEPTH 32
#define A5_YAML_MAX_NODES 2000000
#define A5_YAML_MAX_BYTES (64u << 20)

typedef enum { A5_YAML_SCALAR, A5_YAML_SEQ, A5_YAML_MAP } a5_yaml_kind;

typedef struct a5_yaml_node a5_yaml_node;
struct a5_yaml_node {
    a5_yaml_kind kind;
    const char *file; /* not owned: outlives the tree (the loader keeps it) */
    int line, col;
    char *value;        /* scalars: NUL-terminated text */
    int plain;          /* scalars: written without quotes */
    int flow;           /* collections: written in flow style ({...} / [...]) */
    size_t n, cap;      /* collections: number of items */
    a5_yaml_node **key; /* maps: key scalars, parallel to item */
    a5_yaml_node **item;
};

/* Parse `len` bytes of YAML. Returns the root node, or NULL after adding one or
 * more located messages to `d` (file named `file`). Caller frees with a5_yaml_free. */
a5_yaml_node *a5_yaml_parse(const char *text, size_t len, const char *file, a5_diag *d);
/* The same as a return code: 0 with the root in *out, A5_ESCENARIO after adding
 * messages to d, or A5_ENOMEM (nothing added); *out is NULL on error. */
int a5_yaml_load(const char *text, size_t len, const char *file, a5_diag *d, a5_yaml_node **out);
void a5_yaml_free(a5_yaml_node *node); /* accepts NULL */

/* Value in a mapping for `key`, or NULL (also when `map` is not a mapping). */
a5_yaml_node *a5_yaml_get(const a5_yaml_node *map, const char *key);
/* Index of `key` in `map`, or -1. */
long a5_yaml_index(const a5_yaml_node *map, const char *key);

/* New nodes (NULL when out of memory); `text` is copied. */
a5_yaml_node *a5_yaml_scalar(const char *text, int plain, const char *file, int line, int col);
a5_yaml_node *a5_yaml_collection(a5_yaml_kind kind, const char *file, int line, int col);
/* Append to a sequence (key NULL) or mapping; takes ownership of key and item even on
 * failure. Returns 0 or A5_ENOMEM. */
int a5_yaml_append(a5_yaml_node *coll, a5_yaml_node *key, a5_yaml_node *item);
/* Replace map[key]'s value (adding the key at the end when absent); takes ownership
 * of item. Returns 0 or A5_ENOMEM. */
int a5_yaml_put(a5_yaml_node *map, const char *key, a5_yaml_node *item);

/* Remove map[key] if present; returns 1 if removed. */
int a5_yaml_remove(a5_yaml_node *map, const char *key);

/* Serialise as YAML text (malloc'd, NUL-terminated). Returns 0 or A5_ENOMEM. */
int a5_yaml_emit(const a5_yaml_node *root, char **text, size_t *len);

#endif
