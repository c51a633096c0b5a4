/* `base:` files: a scenario that starts from another's settings. See scenario_int.h. */
#include "scenario_int.h"

#include "a5_sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int read_quiet(const char *path, char **out, size_t *outlen, char *why, size_t whylen);

/* 1 if a and b name the same file. */
static int same_file(const char *a, const char *b)
{
    struct stat x, y;
    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* `base:` at node b leads back to a file already in the chain (the scenario, then
 * L->files): report the whole cycle. Returns 1 if it does. */
static int base_cycle(a5_sc_loader *L, const a5_yaml_node *b, const char *path)
{
    int at = -1; /* -1: not in the chain; 0: the scenario; k: L->files[k - 1] */
    if (same_file(path, L->s->file))
        at = 0;
    for (int i = 0; at < 0 && i < L->nfiles; i++)
        if (same_file(path, L->files[i]))
            at = i + 1;
    if (at < 0)
        return 0;
    char chain[600] = "";
    size_t off = 0;
    for (int i = at; i <= L->nfiles && off < sizeof chain; i++)
        off += (size_t)snprintf(chain + off, sizeof chain - off, "%.120s -> ",
                                i == 0 ? L->s->file : L->files[i - 1]);
    if (off < sizeof chain)
        snprintf(chain + off, sizeof chain - off, "%.120s", path);
    A5_SC_ERR(L, b, "'base' files form a cycle: %s", chain);
    return 1;
}

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
    size_t n = strlen(t) + strlen(b->file) + 2;
    char *path = a5_malloc(n);
    if (!path) {
        rc = A5_ENOMEM;
        goto fail;
    }
    a5_sc_beside(b->file, t, path, n);
    if (base_cycle(L, b, path)) {
        free(path);
        rc = A5_ESCENARIO;
        goto fail;
    }
    if (depth >= A5_MAX_BASE_DEPTH || L->nfiles >= A5_MAX_BASE_DEPTH) {
        A5_SC_ERR(L, b, "'base' files nest deeper than %d", A5_MAX_BASE_DEPTH);
        free(path);
        rc = A5_ESCENARIO;
        goto fail;
    }
    L->files[L->nfiles++] = path;
    char *buf, why[160];
    size_t len;
    if ((rc = read_quiet(path, &buf, &len, why, sizeof why))) {
        if (rc != A5_ENOMEM) {
            A5_SC_ERR(L, b, "cannot read base scenario '%s': %s", path, why);
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
    /* One way to vary: a child's sweep replaces the base's design and levers; a
     * child's design or levers replace the base's sweep (a robust base's levers stay
     * under a child's new design). */
    static const char *const vary[] = {"sweep", "design", "levers"};
    const int child_sweeps = a5_yaml_get(root, "sweep") != NULL,
              child_designs = a5_yaml_get(root, "design") || a5_yaml_get(root, "levers");
    for (int k = 0; k < 3; k++) {
        long j = a5_yaml_index(base, vary[k]);
        if (j < 0 || a5_yaml_get(root, vary[k]) || !(k == 0 ? child_designs : child_sweeps))
            continue;
        a5_yaml_free(base->key[j]);
        a5_yaml_free(base->item[j]);
        for (size_t q = (size_t)j; q + 1 < base->n; q++) {
            base->key[q] = base->key[q + 1];
            base->item[q] = base->item[q + 1];
        }
        base->n--;
    }
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

/* Read a scenario file into *out: a regular file of at most the YAML size limit,
 * refused before reading anything otherwise (a FIFO would block, /dev/zero never
 * ends). Returns 0, A5_ENOMEM, or A5_EIO with the reason in why. */
static int read_quiet(const char *path, char **out, size_t *outlen, char *why, size_t whylen)
{
    int rc = a5_sys_read_regular(path, A5_YAML_MAX_BYTES, out, outlen);
    if (rc == A5_EIO) {
        struct stat st;
        if (errno == EINVAL && stat(path, &st) == 0)
            snprintf(why, whylen, "it is %s, not a regular file", a5_sys_kind((unsigned)st.st_mode));
        else if (errno == EFBIG)
            snprintf(why, whylen, "it is larger than %u MiB (scenario files are limited to %u MiB)",
                     A5_YAML_MAX_BYTES >> 20, A5_YAML_MAX_BYTES >> 20);
        else
            snprintf(why, whylen, "%s", strerror(errno));
    }
    return rc;
}

int a5_sc_read_file(const char *path, a5_diag *d, char **out, size_t *outlen)
{
    char why[160];
    int rc = read_quiet(path, out, outlen, why, sizeof why);
    if (rc == A5_EIO)
        a5_diag_add(d, path, 0, 0, "cannot read: %s", why);
    return rc;
}
