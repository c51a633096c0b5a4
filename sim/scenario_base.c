/* `base:` files: a scenario that starts from another's settings. See scenario_int.h. */
#include "scenario_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `base: FILE` (relative to the file naming it): start from FILE's settings and
 * replace each top-level section this file gives. */
int a5_sc_merge_base(a5_sc_loader *L, a5_yaml_node *root, int depth, a5_yaml_node **out)
{
    const a5_yaml_node *b = a5_yaml_get(root, "base");
    const char *t;
    a5_yaml_node *base = NULL;
    int rc;
    *out = NULL;
    if (!b) {
        *out = root;
        return 0;
    }
    if ((rc = a5_sc_text(L, b, "base", &t)))
        goto fail;
    if (depth >= A5_MAX_BASE_DEPTH || L->nfiles >= A5_MAX_BASE_DEPTH) {
        A5_SC_ERR(L, b, "'base' files nest deeper than %d", A5_MAX_BASE_DEPTH);
        rc = A5_ESCENARIO;
        goto fail;
    }
    const char *slash = strrchr(b->file, '/');
    size_t n = strlen(t) + strlen(b->file) + 2;
    char *path = a5_malloc(n);
    if (!path) {
        rc = A5_ENOMEM;
        goto fail;
    }
    if (t[0] != '/' && slash)
        snprintf(path, n, "%.*s/%s", (int)(slash - b->file), b->file, t);
    else
        snprintf(path, n, "%s", t);
    L->files[L->nfiles++] = path;
    char *buf;
    size_t len;
    if ((rc = a5_sc_read_file(path, L->d, &buf, &len))) {
        if (rc != A5_ENOMEM) {
            A5_SC_ERR(L, b, "cannot read base scenario '%s'", path);
            rc = A5_ESCENARIO;
        }
        goto fail;
    }
    rc = a5_yaml_load(buf, len, path, L->d, &base);
    free(buf);
    if (rc)
        goto fail;
    rc = A5_ESCENARIO;
    if (base->kind != A5_YAML_MAP) {
        A5_SC_ERR(L, base, "a scenario must be a mapping of settings (key: value), got %s",
                  a5_sc_kind_name(base));
        a5_yaml_free(base);
        goto fail;
    }
    if ((rc = a5_sc_merge_base(L, base, depth + 1, &base)))
        goto fail;
    for (size_t i = 0; i < root->n; i++) {
        if (strcmp(root->key[i]->value, "base") == 0)
            continue;
        long j = a5_yaml_index(base, root->key[i]->value);
        if (j >= 0) {
            a5_yaml_free(base->key[j]);
            a5_yaml_free(base->item[j]);
            base->key[j] = root->key[i];
            base->item[j] = root->item[i];
        } else if (a5_yaml_append(base, root->key[i], root->item[i])) { /* consumed both */
            rc = A5_ENOMEM;
        }
        root->key[i] = root->item[i] = NULL;
    }
    a5_yaml_free(root);
    if (rc == A5_ENOMEM) {
        a5_yaml_free(base);
        return rc;
    }
    *out = base;
    return 0;
fail:
    a5_yaml_free(root);
    return rc;
}

/* Read a whole file (at most a little over the YAML size limit, which parsing then
 * reports). */
int a5_sc_read_file(const char *path, a5_diag *d, char **out, size_t *outlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        a5_diag_add(d, path, 0, 0, "cannot open: %s", strerror(errno));
        return A5_EIO;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = a5_malloc(cap);
    int rc = 0;
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap || cap > A5_YAML_MAX_BYTES)
            break;
        char *nb = a5_realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    if (!buf)
        rc = A5_ENOMEM;
    else if (ferror(f)) {
        a5_diag_add(d, path, 0, 0, "cannot read: %s", strerror(errno));
        rc = A5_EIO;
    }
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *outlen = len;
    return 0;
}
