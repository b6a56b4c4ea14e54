/* Index of an image folder in the order of Keras' `index_directory`:
 * classes in class_names order; within a class, tf.io.gfile.walk results sorted by directory path,
 * file names sorted within each directory, kept when name.lower() ends with an allowed extension.
 * Directory symlinks are followed (tf.io.gfile.walk classifies entries with stat), but each
 * directory and each file is taken once however it is reached (symlink loops, links to a file
 * already indexed, hard links: keyed by st_dev and st_ino), so no image lands twice in the list,
 * let alone in both the training and the validation split. */
#include "vkdp/core/common.h"
#include "vkdp/core/errmsg.h"
#include "vkdp/data/data.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Deep nesting without a cycle (cycles are cut by the visited set) is still bounded. */
#define MAX_WALK_DEPTH 40

/* A set of (st_dev, st_ino): open addressing, grown at half load. */
typedef struct {
    uint64_t *key; /* 2 per slot: dev, ino + 1 (0 marks an empty slot) */
    size_t cap, n;
} inode_set;

static size_t inode_slot(const inode_set *s, uint64_t dev, uint64_t ino)
{
    uint64_t h = (dev * 0x9E3779B97F4A7C15ull) ^ (ino * 0xC2B2AE3D27D4EB4Full);
    size_t i = (size_t)(h ^ (h >> 29)) & (s->cap - 1);
    while (s->key[2 * i + 1] && (s->key[2 * i] != dev || s->key[2 * i + 1] != ino + 1))
        i = (i + 1) & (s->cap - 1);
    return i;
}

/* Adds the file's identity; returns 1 when it was already there. */
static int inode_seen(inode_set *s, const struct stat *st)
{
    if (2 * (s->n + 1) > s->cap) {
        inode_set g = {vkdp_xcalloc(s->cap ? 4 * s->cap : 128, sizeof(uint64_t)), s->cap ? 2 * s->cap : 64, 0};
        for (size_t i = 0; i < s->cap; i++)
            if (s->key[2 * i + 1]) {
                size_t j = inode_slot(&g, s->key[2 * i], s->key[2 * i + 1] - 1);
                g.key[2 * j] = s->key[2 * i];
                g.key[2 * j + 1] = s->key[2 * i + 1];
                g.n++;
            }
        free(s->key);
        *s = g;
    }
    uint64_t dev = (uint64_t)st->st_dev, ino = (uint64_t)st->st_ino;
    size_t i = inode_slot(s, dev, ino);
    if (s->key[2 * i + 1])
        return 1;
    s->key[2 * i] = dev;
    s->key[2 * i + 1] = ino + 1;
    s->n++;
    return 0;
}

typedef struct {
    char **v;
    int n, cap;
} strvec;

static void strvec_push(strvec *s, char *str)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->v = vkdp_xrealloc(s->v, (size_t)s->cap * sizeof *s->v);
    }
    s->v[s->n++] = str;
}

static void strvec_free(strvec *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la == 0)
        return vkdp_xstrdup(b);
    char *s = vkdp_xmalloc(la + lb + 2);
    memcpy(s, a, la);
    s[la] = '/';
    memcpy(s + la + 1, b, lb + 1);
    return s;
}

static int has_ext(const char *name, const char *ext)
{
    size_t ln = strlen(name), le = strlen(ext);
    if (ln < le)
        return 0;
    for (size_t i = 0; i < le; i++) {
        char c = name[ln - le + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != ext[i])
            return 0;
    }
    return 1;
}

/* Lists a directory: subdirectories (stat follows links) and other entries, both sorted. */
static int list_dir(const char *path, strvec *dirs, strvec *files)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    while ((errno = 0, e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *full = join(path, e->d_name);
        struct stat st;
        int isdir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
        free(full);
        strvec_push(isdir && dirs ? dirs : files, vkdp_xstrdup(e->d_name));
    }
    int rc = errno ? -1 : 0;
    closedir(d);
    if (dirs && dirs->n > 1)
        qsort(dirs->v, (size_t)dirs->n, sizeof(char *), cmp_str);
    if (files->n > 1)
        qsort(files->v, (size_t)files->n, sizeof(char *), cmp_str);
    return rc;
}

/* All directories under `root` (relative, "" = root itself), recursively, each directory once:
 * one reached again (a symlink loop, a second link to it) is reported and not walked again. */
static void walk_dirs(const char *root, const char *rel, int depth, inode_set *seen, strvec *out)
{
    char *full = rel[0] ? join(root, rel) : vkdp_xstrdup(root);
    struct stat st;
    if (stat(full, &st) == 0 && inode_seen(seen, &st)) {
        vkdp_warn("%s: a directory already walked (symlink loop or second link): not walked again", full);
        free(full);
        return;
    }
    strvec_push(out, vkdp_xstrdup(rel));
    if (depth >= MAX_WALK_DEPTH) {
        vkdp_warn("%s: directory nesting deeper than %d: not descending", full, MAX_WALK_DEPTH);
        free(full);
        return;
    }
    strvec dirs = {0}, files = {0};
    if (list_dir(full, &dirs, &files) != 0)
        vkdp_warn("%s: cannot list directory: %s", full, strerror(errno));
    for (int i = 0; i < dirs.n; i++) {
        char *sub = join(rel, dirs.v[i]);
        walk_dirs(root, sub, depth + 1, seen, out);
        free(sub);
    }
    strvec_free(&dirs);
    strvec_free(&files);
    free(full);
}

typedef struct {
    vkdp_index *idx;
    int cap, xcap, scap;
    inode_set files;   /* every image file taken so far, all classes */
} builder;

static void add_excluded(vkdp_excluded **arr, int *n, int *cap, const char *path, const char *reason)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 8;
        *arr = vkdp_xrealloc(*arr, (size_t)*cap * sizeof **arr);
    }
    (*arr)[*n].path = vkdp_xstrdup(path);
    (*arr)[*n].reason = vkdp_xstrdup(reason);
    (*n)++;
}

static void add_file(builder *b, const char *rel, int label, int w, int h, int64_t bytes)
{
    vkdp_index *x = b->idx;
    if (x->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 256;
        x->rel = vkdp_xrealloc(x->rel, (size_t)b->cap * sizeof *x->rel);
        x->label = vkdp_xrealloc(x->label, (size_t)b->cap * sizeof *x->label);
        x->width = vkdp_xrealloc(x->width, (size_t)b->cap * sizeof *x->width);
        x->height = vkdp_xrealloc(x->height, (size_t)b->cap * sizeof *x->height);
        x->bytes = vkdp_xrealloc(x->bytes, (size_t)b->cap * sizeof *x->bytes);
    }
    x->bytes[x->n] = bytes;
    x->rel[x->n] = vkdp_xstrdup(rel);
    x->label[x->n] = label;
    x->width[x->n] = w;
    x->height[x->n] = h;
    x->n++;
}

static void index_class(builder *b, int label)
{
    vkdp_index *x = b->idx;
    const char *cls = x->class_names[label];
    char *classdir = join(x->root, cls);
    strvec dirs = {0};
    inode_set seen_dirs = {0};
    walk_dirs(classdir, "", 0, &seen_dirs, &dirs);
    free(seen_dirs.key);
    /* Keras sorts walk results by the directory path, a plain string sort. */
    if (dirs.n > 1)
        qsort(dirs.v, (size_t)dirs.n, sizeof(char *), cmp_str);
    for (int d = 0; d < dirs.n; d++) {
        char *dirfull = dirs.v[d][0] ? join(classdir, dirs.v[d]) : vkdp_xstrdup(classdir);
        strvec files = {0};
        list_dir(dirfull, NULL, &files); /* dirs == NULL: subdirectories land in files, skip them */
        for (int f = 0; f < files.n; f++) {
            const char *name = files.v[f];
            int jpeg = has_ext(name, ".jpg") || has_ext(name, ".jpeg");
            int other = has_ext(name, ".png") || has_ext(name, ".bmp") || has_ext(name, ".gif");
            if (!jpeg && !other)
                continue;
            char *full = join(dirfull, name);
            struct stat st;
            int statted = stat(full, &st) == 0;
            if (statted && S_ISDIR(st.st_mode)) {
                free(full);
                continue;
            }
            if (statted && S_ISREG(st.st_mode) && inode_seen(&b->files, &st)) {
                add_excluded(&x->excluded, &x->nexcluded, &b->xcap, full,
                             "the same file as one already indexed (symlink or hard link): taken once");
                x->nduplicates++;
                free(full);
                continue;
            }
            char *relpath = dirs.v[d][0] ? join(dirs.v[d], name) : vkdp_xstrdup(name);
            char *rel = join(cls, relpath);
            char reason[256];
            int w = 0, h = 0;
            if (other) {
                snprintf(reason, sizeof reason, "%s image: only JPEG files are decoded",
                         has_ext(name, ".png") ? "PNG" : has_ext(name, ".bmp") ? "BMP" : "GIF");
                add_excluded(&x->skipped_types, &x->nskipped_types, &b->scap, full, reason);
            } else if (vkdp_jpeg_probe(full, &w, &h, reason, sizeof reason) != 0) {
                add_excluded(&x->excluded, &x->nexcluded, &b->xcap, full, reason);
            } else {
                add_file(b, rel, label, w, h, statted ? (int64_t)st.st_size : -1);
                x->class_counts[label]++;
            }
            free(rel);
            free(relpath);
            free(full);
        }
        strvec_free(&files);
        free(dirfull);
    }
    strvec_free(&dirs);
    free(classdir);
}

int vkdp_index_build(const char *dir, const char *const *class_names, int nclass_names,
                     vkdp_index *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!dir || !dir[0]) {
        vkdp_seterr(err, errlen, "no data folder given");
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
        vkdp_seterr(err, errlen, "data folder %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        vkdp_seterr(err, errlen, "data folder %s: not a directory", dir);
        return -1;
    }
    vkdp_index *x = out;
    x->root = vkdp_xstrdup(dir);
    for (size_t l = strlen(x->root); l > 1 && x->root[l - 1] == '/'; l--)
        x->root[l - 1] = 0;

    strvec subdirs = {0}, files = {0};
    if (list_dir(x->root, &subdirs, &files) != 0) {
        vkdp_seterr(err, errlen, "data folder %s: cannot list: %s", x->root, strerror(errno));
        goto fail;
    }
    /* Keras ignores hidden top-level folders. */
    strvec classes = {0};
    for (int i = 0; i < subdirs.n; i++)
        if (subdirs.v[i][0] != '.')
            strvec_push(&classes, vkdp_xstrdup(subdirs.v[i]));
    if (class_names) {
        for (int i = 0; i < nclass_names; i++) {
            int found = 0, dup = 0;
            for (int j = 0; j < classes.n; j++)
                found |= !strcmp(classes.v[j], class_names[i]);
            for (int j = 0; j < i; j++)
                dup |= !strcmp(class_names[j], class_names[i]);
            if (!found || dup || !class_names[i][0]) {
                vkdp_seterr(err, errlen, "class '%s' %s in %s", class_names[i],
                       dup ? "is given twice" : "is not a subfolder", x->root);
                strvec_free(&classes);
                goto fail;
            }
        }
        strvec_free(&classes);
        for (int i = 0; i < nclass_names; i++)
            strvec_push(&classes, vkdp_xstrdup(class_names[i]));
    }
    if (classes.n == 0) {
        vkdp_seterr(err, errlen, "data folder %s has no class subfolders (expected one folder per class)",
               x->root);
        strvec_free(&classes);
        goto fail;
    }
    x->nclasses = classes.n;
    x->class_names = classes.v; /* ownership moves to the index */
    x->class_counts = vkdp_xcalloc((size_t)x->nclasses, sizeof(int));

    builder b = {x, 0, 0, 0, {0}};
    for (int c = 0; c < x->nclasses; c++) {
        index_class(&b, c);
        if (x->class_counts[c] == 0)
            x->nempty_classes++;
    }
    free(b.files.key);
    if (x->n == 0) {
        vkdp_seterr(err, errlen, "data folder %s: no usable JPEG image in its %d class folder(s)%s",
               x->root, x->nclasses,
               x->nexcluded || x->nskipped_types ? " (all files excluded, see the reasons above)"
                                                 : "");
        goto fail;
    }
    strvec_free(&subdirs);
    strvec_free(&files);
    return 0;
fail:
    strvec_free(&subdirs);
    strvec_free(&files);
    /* Keep the exclusion lists readable by the caller on failure: report them, then free. */
    for (int i = 0; i < x->nexcluded; i++)
        vkdp_warn("%s: excluded: %s", x->excluded[i].path, x->excluded[i].reason);
    vkdp_index_free(x);
    return -1;
}

static void free_excl(vkdp_excluded *e, int n)
{
    for (int i = 0; i < n; i++) {
        free(e[i].path);
        free(e[i].reason);
    }
    free(e);
}

void vkdp_index_free(vkdp_index *x)
{
    if (!x)
        return;
    for (int c = 0; c < x->nclasses; c++)
        free(x->class_names[c]);
    free(x->class_names);
    free(x->class_counts);
    for (int i = 0; i < x->n; i++)
        free(x->rel[i]);
    free(x->rel);
    free(x->label);
    free(x->width);
    free(x->height);
    free(x->bytes);
    free_excl(x->excluded, x->nexcluded);
    free_excl(x->skipped_types, x->nskipped_types);
    free(x->root);
    memset(x, 0, sizeof *x);
}

const char *vkdp_index_path(const vkdp_index *idx, int id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", idx->root, idx->rel[id]);
    return buf;
}
