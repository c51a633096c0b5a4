/* Bounded YAML tree from libyaml events, and its serialiser. See a5_yaml.h. */
#include "a5_yaml.h"

#include "a5_mem.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

a5_yaml_node *a5_yaml_collection(a5_yaml_kind kind, const char *file, int line, int col)
{
    a5_yaml_node *n = a5_calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->file = file;
    n->line = line;
    n->col = col;
    return n;
}

a5_yaml_node *a5_yaml_scalar(const char *text, int plain, const char *file, int line, int col)
{
    a5_yaml_node *n = a5_yaml_collection(A5_YAML_SCALAR, file, line, col);
    if (!n)
        return NULL;
    n->value = a5_strdup(text);
    if (!n->value) {
        free(n);
        return NULL;
    }
    n->plain = plain;
    return n;
}

void a5_yaml_free(a5_yaml_node *node)
{
    if (!node)
        return;
    for (size_t i = 0; i < node->n; i++) {
        if (node->key)
            a5_yaml_free(node->key[i]);
        a5_yaml_free(node->item[i]);
    }
    free(node->key);
    free(node->item);
    free(node->value);
    free(node);
}

int a5_yaml_append(a5_yaml_node *coll, a5_yaml_node *key, a5_yaml_node *item)
{
    if (coll->n == coll->cap) {
        size_t cap = coll->cap ? 2 * coll->cap : 4;
        a5_yaml_node **items = a5_realloc(coll->item, cap * sizeof *items);
        if (items)
            coll->item = items;
        a5_yaml_node **keys = coll->key;
        if (items && coll->kind == A5_YAML_MAP) {
            keys = a5_realloc(coll->key, cap * sizeof *keys);
            if (keys)
                coll->key = keys;
        }
        if (!items || (coll->kind == A5_YAML_MAP && !keys)) {
            a5_yaml_free(key);
            a5_yaml_free(item);
            return A5_ENOMEM;
        }
        coll->cap = cap;
    }
    if (coll->kind == A5_YAML_MAP)
        coll->key[coll->n] = key;
    else
        a5_yaml_free(key);
    coll->item[coll->n++] = item;
    return 0;
}

long a5_yaml_index(const a5_yaml_node *map, const char *key)
{
    if (!map || map->kind != A5_YAML_MAP)
        return -1;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->key[i]->value, key) == 0)
            return (long)i;
    return -1;
}

a5_yaml_node *a5_yaml_get(const a5_yaml_node *map, const char *key)
{
    long i = a5_yaml_index(map, key);
    return i < 0 ? NULL : map->item[i];
}

int a5_yaml_put(a5_yaml_node *map, const char *key, a5_yaml_node *item)
{
    long i = a5_yaml_index(map, key);
    if (i >= 0) {
        a5_yaml_free(map->item[i]);
        map->item[i] = item;
        return 0;
    }
    a5_yaml_node *k = a5_yaml_scalar(key, 1, item->file, item->line, item->col);
    if (!k) {
        a5_yaml_free(item);
        return A5_ENOMEM;
    }
    return a5_yaml_append(map, k, item);
}

int a5_yaml_remove(a5_yaml_node *map, const char *key)
{
    long i = a5_yaml_index(map, key);
    if (i < 0)
        return 0;
    a5_yaml_free(map->key[i]);
    a5_yaml_free(map->item[i]);
    memmove(map->key + i, map->key + i + 1, (map->n - (size_t)i - 1) * sizeof *map->key);
    memmove(map->item + i, map->item + i + 1, (map->n - (size_t)i - 1) * sizeof *map->item);
    map->n--;
    return 1;
}

/* Line and column (1-based) of byte offset `off` in text. */
static void locate(const char *text, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        /* A line ends at LF, CRLF (counted at its LF) or a CR alone, as libyaml's. */
        if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= off || text[i + 1] != '\n'))) {
            l++;
            c = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

typedef struct {
    a5_yaml_node *stack[A5_YAML_MAX_DEPTH + 1];
    a5_yaml_node *pending_key[A5_YAML_MAX_DEPTH + 1];
    int depth;
    a5_yaml_node *root;
    size_t nodes;
} builder;

/* Attach a finished or opened node to the current parent. Returns 0, A5_ESCENARIO
 * after reporting, or A5_ENOMEM. */
static int attach(builder *b, a5_yaml_node *node, const char *file, a5_diag *d)
{
    if (b->depth == 0) {
        b->root = node;
        return 0;
    }
    a5_yaml_node *parent = b->stack[b->depth - 1];
    if (parent->kind == A5_YAML_SEQ) {
        return a5_yaml_append(parent, NULL, node);
    }
    a5_yaml_node **pk = &b->pending_key[b->depth - 1];
    if (!*pk) {
        if (node->kind != A5_YAML_SCALAR) {
            a5_diag_add(d, file, node->line, node->col,
                        "a mapping key must be a plain name, not a %s",
                        node->kind == A5_YAML_MAP ? "mapping" : "sequence");
            a5_yaml_free(node);
            return A5_ESCENARIO;
        }
        long prev = a5_yaml_index(parent, node->value);
        if (prev >= 0) {
            a5_diag_add(d, file, node->line, node->col,
                        "duplicate key '%s' (first given at line %d)", node->value,
                        parent->key[prev]->line);
            a5_yaml_free(node);
            return A5_ESCENARIO;
        }
        *pk = node;
        return 0;
    }
    a5_yaml_node *key = *pk;
    *pk = NULL;
    return a5_yaml_append(parent, key, node);
}

a5_yaml_node *a5_yaml_parse(const char *text, size_t len, const char *file, a5_diag *d)
{
    a5_yaml_node *root;
    if (a5_yaml_load(text, len, file, d, &root) == A5_ENOMEM)
        a5_diag_add(d, file, 1, 1, "out of memory");
    return root;
}

/* Plain (may be read as a number or a word): no quotes, and no tag but YAML's own
 * for numbers, booleans and null. "!!str 0.5" is text, as "'0.5'" is. */
static int plain_scalar(const yaml_event_t *ev)
{
    static const char *const core[] = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                                       "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"};
    const char *tag = (const char *)ev->data.scalar.tag;
    int ok = !tag;
    for (size_t i = 0; tag && i < sizeof core / sizeof *core; i++)
        ok |= !strcmp(tag, core[i]);
    return ok && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

int a5_yaml_load(const char *text, size_t len, const char *file, a5_diag *d, a5_yaml_node **out)
{
    int line, col;
    *out = NULL;
    if (len > A5_YAML_MAX_BYTES) {
        a5_diag_add(d, file, 1, 1, "file is %zu bytes; scenario files are limited to %u MiB",
                    len, A5_YAML_MAX_BYTES >> 20);
        return A5_ESCENARIO;
    }
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        locate(text, (size_t)(nul - text), &line, &col);
        a5_diag_add(d, file, line, col, "NUL byte in file: a scenario must be UTF-8 text");
        return A5_ESCENARIO;
    }

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return A5_ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    builder b;
    memset(&b, 0, sizeof b);
    int docs = 0, failed = 0, done = 0;
    while (!done && !failed) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            line = (int)parser.problem_mark.line + 1;
            col = (int)parser.problem_mark.column + 1;
            if (parser.error == YAML_READER_ERROR) /* a bad byte: libyaml gives its offset */
                locate(text, parser.problem_offset < len ? parser.problem_offset : len, &line,
                       &col);
            a5_diag_add(d, file, line, col, "malformed YAML: %s%s%s",
                        parser.problem ? parser.problem : "syntax error",
                        parser.context ? " " : "", parser.context ? parser.context : "");
            failed = A5_ESCENARIO;
            break;
        }
        line = (int)ev.start_mark.line + 1;
        col = (int)ev.start_mark.column + 1;
        a5_yaml_node *node = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                a5_diag_add(d, file, line, col,
                            "a second YAML document ('---'): a scenario file holds one");
                failed = A5_ESCENARIO;
            }
            break;
        case YAML_ALIAS_EVENT:
            a5_diag_add(d, file, line, col,
                        "YAML alias '*%s' is not supported: write the value out in full",
                        (const char *)ev.data.alias.anchor);
            failed = A5_ESCENARIO;
            break;
        case YAML_SCALAR_EVENT:
            node = a5_yaml_scalar((const char *)ev.data.scalar.value, plain_scalar(&ev), file,
                                  line, col);
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (b.depth >= A5_YAML_MAX_DEPTH) {
                a5_diag_add(d, file, line, col, "nesting deeper than %d levels",
                            A5_YAML_MAX_DEPTH);
                failed = A5_ESCENARIO;
                break;
            }
            node = a5_yaml_collection(ev.type == YAML_SEQUENCE_START_EVENT ? A5_YAML_SEQ
                                                                          : A5_YAML_MAP,
                                      file, line, col);
            if (node)
                node->flow = ev.type == YAML_SEQUENCE_START_EVENT
                                 ? ev.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE
                                 : ev.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            b.depth--;
            break;
        default:
            break;
        }
        int opened = ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT;
        int made = ev.type == YAML_SCALAR_EVENT || opened;
        yaml_event_delete(&ev);
        if (failed)
            break;
        if (made) {
            if (!node) {
                failed = A5_ENOMEM;
                break;
            }
            if (++b.nodes > A5_YAML_MAX_NODES) {
                a5_diag_add(d, file, line, col, "more than %d YAML nodes", A5_YAML_MAX_NODES);
                a5_yaml_free(node);
                failed = A5_ESCENARIO;
                break;
            }
            if ((failed = attach(&b, node, file, d)))
                break;
            if (opened) {
                b.stack[b.depth] = node;
                b.pending_key[b.depth] = NULL;
                b.depth++;
            }
        }
    }
    yaml_parser_delete(&parser);
    for (int i = 0; i < b.depth; i++)
        a5_yaml_free(b.pending_key[i]);
    if (failed) {
        a5_yaml_free(b.root);
        return failed;
    }
    if (!b.root || (b.root->kind == A5_YAML_SCALAR && b.root->plain && b.root->value[0] == 0)) {
        a5_diag_add(d, file, 1, 1, "empty scenario: expected a mapping of settings");
        a5_yaml_free(b.root);
        return A5_ESCENARIO;
    }
    *out = b.root;
    return 0;
}

/* --- serialiser ------------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len, cap;
    int oom;
} outbuf;

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
    outbuf *o = data;
    if (o->len + size + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + size + 1)
            cap *= 2;
        char *p = a5_realloc(o->buf, cap);
        if (!p) {
            o->oom = 1;
            return 0;
        }
        o->buf = p;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, buffer, size);
    o->len += size;
    o->buf[o->len] = 0;
    return 1;
}

static int emit_node(yaml_emitter_t *em, const a5_yaml_node *n)
{
    yaml_event_t ev;
    int ok;
    if (n->kind == A5_YAML_SCALAR) {
        ok = yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)n->value, -1, n->plain,
                                          !n->plain,
                                          n->plain ? YAML_ANY_SCALAR_STYLE
                                                   : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
        return ok && yaml_emitter_emit(em, &ev);
    }
    if (n->kind == A5_YAML_SEQ)
        ok = yaml_sequence_start_event_initialize(
            &ev, NULL, NULL, 1, n->flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
    else
        ok = yaml_mapping_start_event_initialize(
            &ev, NULL, NULL, 1, n->flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
    if (!ok || !yaml_emitter_emit(em, &ev))
        return 0;
    for (size_t i = 0; i < n->n; i++) {
        if (n->kind == A5_YAML_MAP && !emit_node(em, n->key[i]))
            return 0;
        if (!emit_node(em, n->item[i]))
            return 0;
    }
    if (n->kind == A5_YAML_SEQ)
        ok = yaml_sequence_end_event_initialize(&ev);
    else
        ok = yaml_mapping_end_event_initialize(&ev);
    return ok && yaml_emitter_emit(em, &ev);
}

int a5_yaml_emit(const a5_yaml_node *root, char **text, size_t *len)
{
    yaml_emitter_t em;
    outbuf o = {0};
    yaml_event_t ev;
    if (!yaml_emitter_initialize(&em))
        return A5_ENOMEM;
    yaml_emitter_set_output(&em, write_handler, &o);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, 100);
    int ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
             yaml_emitter_emit(&em, &ev) &&
             yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
             yaml_emitter_emit(&em, &ev) && emit_node(&em, root) &&
             yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev) &&
             yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev) &&
             yaml_emitter_flush(&em);
    yaml_emitter_delete(&em);
    if (!ok || o.oom) {
        free(o.buf);
        return A5_ENOMEM;
    }
    *text = o.buf;
    *len = o.len;
    return 0;
}
