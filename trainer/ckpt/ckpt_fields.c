/* The one description of a checkpoint's scalar fields (/config, /optimizer, /state): name, type,
 * place in vkdp_ckpt_state and valid range; and the writer, reader and printer it drives. */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ckpt_io.h"

/* offsetof(vkdp_ckpt_state, m), failing to compile unless the member has `size` bytes. */
#define OFF(m, size)                                                                             \
    (offsetof(vkdp_ckpt_state, m) +                                                              \
     0 * sizeof(char[sizeof(((vkdp_ckpt_state *)0)->m) == (size) ? 1 : -1]))
#define MSIZE(m) sizeof(((vkdp_ckpt_state *)0)->m)

#define I32(g, m, lo, hi, note) {g, #m, VKDP_CKPT_I32, OFF(m, 4), 4, lo, hi, 0, 0, 0, note, 0}
#define I64(g, m, lo, hi) {g, #m, VKDP_CKPT_I64, OFF(m, 8), 8, lo, hi, 0, 0, 0, NULL, 0}
#define U64(g, m) {g, #m, VKDP_CKPT_U64, OFF(m, 8), 8, 0, 0, 0, 0, 0, NULL, 0}
#define F64(g, m, lo, hi, flags) {g, #m, VKDP_CKPT_F64, OFF(m, 8), 8, 0, 0, lo, hi, flags, NULL, 0}
#define STR(g, m) {g, #m, VKDP_CKPT_STR, offsetof(vkdp_ckpt_state, m), MSIZE(m), 0, 0, 0, 0, 0, NULL, 0}
#define OPT_I32(g, m, lo, hi, note) {g, #m, VKDP_CKPT_I32, OFF(m, 4), 4, lo, hi, 0, 0, VKDP_CKPT_OPTIONAL, note, 0}
#define OPT_F64(g, m, lo, hi) {g, #m, VKDP_CKPT_F64, OFF(m, 8), 8, 0, 0, lo, hi, VKDP_CKPT_OPTIONAL, NULL, 0}
/* optional, left out at its default dflt (and read as dflt when absent) */
#define DEF_F64(g, m, lo, hi, dflt, note)                                                        \
    {g, #m, VKDP_CKPT_F64, OFF(m, 8), 8, 0, 0, lo, hi, VKDP_CKPT_OPTIONAL, note, dflt}
#define OPT_STR(g, m, note)                                                                      \
    {g, #m, VKDP_CKPT_STR, offsetof(vkdp_ckpt_state, m), MSIZE(m), 0, 0, 0, 0, VKDP_CKPT_OPTIONAL, note, 0}

/* Ranges are the command line's (trainer train --help) where a flag sets the value. Adam's betas
 * must stay below 1: its bias correction divides by 1 - beta^t. */
#define BETA_MAX 0.999999
static const vkdp_ckpt_field fields[] = {
    I32("config", nclasses, 1, 1 << 20, NULL),
    I32("config", image_size, 32, 4096, NULL),
    U64("config", seed),
    I32("config", batch, 1, 4096, "(global)"),
    I32("config", epochs, 0, 100000, NULL),
    F64("config", lr, 0, 10, 0),
    F64("config", dropout, 0, 0.99, 0),
    F64("config", validation_split, 0, 0.99, 0),
    I32("config", nranks, 1, 1 << 24, NULL),
    I32("config", backbone_trainable, 0, 1, "(1: tensors in /backbone; 0: frozen, weights_file)"),
    OPT_I32("config", augment, 0, 1, "(1: --augment)"),
    OPT_I32("config", fine_tune_epochs, 0, 100000, "(phase 2 epochs)"),
    OPT_F64("config", fine_tune_lr, 0, 10),
    DEF_F64("config", drop_connect_rate, 0, 0.99, VKDP_CKPT_DROP_CONNECT_DEFAULT,
            "(phase 2: block b drops at rate * b / 16)"),
    OPT_I32("config", drop_connect_all, 0, 1, "(1: --drop-connect all, frozen blocks too)"),
    OPT_STR("config", fine_tune_from, "(first trainable block; empty: none)"),
    STR("config", data_dir),
    STR("config", weights_file),
    STR("config", weights_sha256),
    STR("config", version),
    STR("config", git_commit),
    STR("config", created),

    I64("optimizer", iterations, 0, INT64_MAX),
    F64("optimizer", lr, 0, 10, VKDP_CKPT_ALIAS),
    F64("optimizer", beta1, 0, BETA_MAX, 0),
    F64("optimizer", beta2, 0, BETA_MAX, 0),
    F64("optimizer", epsilon, 1e-30, 1, 0),

    I32("state", epoch, 0, 100000, "completed"),
    I64("state", global_step, 0, INT64_MAX),
    I64("state", step_in_epoch, 0, INT32_MAX - 1),
    I64("state", steps_per_epoch, 0, INT32_MAX),
    U64("state", sampler_seed),
    U64("state", dropout_seed),
    F64("state", epoch_loss_sum, 0, INFINITY, VKDP_CKPT_NAN_OK),
    I64("state", epoch_correct, 0, INT64_MAX),
    I64("state", epoch_count, 0, INT64_MAX),
    I64("state", epoch_skipped, 0, INT64_MAX),
    F64("state", epoch_seconds, 0, DBL_MAX, 0),
};

const vkdp_ckpt_field *vkdp_ckpt_fields(size_t *n)
{
    *n = VKDP_ARRAY_LEN(fields);
    return fields;
}

double vkdp_ckpt_optimizer_lr(const vkdp_ckpt_state *s)
{
    const int phase2 = s->fine_tune_epochs > 0 &&
                       (s->epoch > s->epochs || (s->epoch == s->epochs && s->step_in_epoch > 0));
    return phase2 ? s->fine_tune_lr : s->lr;
}

/* The field's value as written and printed: its member, or for the one derived field
 * (/optimizer lr, which has no member of its own) *tmp. */
static const void *value(const vkdp_ckpt_state *s, const vkdp_ckpt_field *f, double *tmp)
{
    if (!(f->flags & VKDP_CKPT_ALIAS))
        return (const char *)s + f->offset;
    *tmp = vkdp_ckpt_optimizer_lr(s);
    return tmp;
}

void vkdp_ckpt_field_str(const vkdp_ckpt_field *f, const vkdp_ckpt_state *s, char *buf, size_t len)
{
    double tmp;
    const void *p = value(s, f, &tmp);
    switch (f->type) {
    case VKDP_CKPT_I32: snprintf(buf, len, "%d", *(const int *)p); break;
    case VKDP_CKPT_I64: snprintf(buf, len, "%" PRId64, *(const int64_t *)p); break;
    case VKDP_CKPT_U64: snprintf(buf, len, "%" PRIu64, *(const uint64_t *)p); break;
    case VKDP_CKPT_F64: snprintf(buf, len, "%g", *(const double *)p); break;
    case VKDP_CKPT_STR: snprintf(buf, len, "%s", (const char *)p); break;
    }
}

static hid_t native_type(vkdp_ckpt_type t)
{
    switch (t) {
    case VKDP_CKPT_I32: return H5T_NATIVE_INT;
    case VKDP_CKPT_I64: return H5T_NATIVE_INT64;
    case VKDP_CKPT_U64: return H5T_NATIVE_UINT64;
    default: return H5T_NATIVE_DOUBLE;
    }
}

/* An optional field at 0 / "" is left out, so a run that does not use it writes the file it
 * wrote before the field existed. */
static int is_unset(const vkdp_ckpt_field *f, const vkdp_ckpt_state *s)
{
    double tmp;
    const void *p = value(s, f, &tmp);
    switch (f->type) {
    case VKDP_CKPT_I32: return *(const int *)p == 0;
    case VKDP_CKPT_I64: return *(const int64_t *)p == 0;
    case VKDP_CKPT_U64: return *(const uint64_t *)p == 0;
    case VKDP_CKPT_F64: return *(const double *)p == f->dflt;
    case VKDP_CKPT_STR: return *(const char *)p == 0;
    }
    return 0;
}

/* prefix + the field's name: the attribute's name */
static const char *attr_name(const char *prefix, const vkdp_ckpt_field *f, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s", prefix, f->name);
    return buf;
}

int ckpt_fields_write_as(vkdp_h5_io *io, hid_t g, const char *group, const char *prefix, const vkdp_ckpt_state *s)
{
    char name[96];
    for (size_t i = 0; i < VKDP_ARRAY_LEN(fields); i++) {
        const vkdp_ckpt_field *f = &fields[i];
        if (strcmp(f->group, group) || ((f->flags & VKDP_CKPT_OPTIONAL) && is_unset(f, s)))
            continue;
        attr_name(prefix, f, name, sizeof name);
        double tmp;
        const void *v = value(s, f, &tmp);
        int rc = f->type == VKDP_CKPT_STR ? vkdp_h5_attr_write_str(io, g, name, v)
                                          : vkdp_h5_attr_write(io, g, name, native_type(f->type), v);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int ckpt_fields_write(vkdp_h5_io *io, hid_t g, const char *group, const vkdp_ckpt_state *s)
{
    return ckpt_fields_write_as(io, g, group, "", s);
}

static int out_of_range(vkdp_h5_io *io, const char *where, const char *name, const vkdp_ckpt_field *f,
                        const char *value)
{
    char range[96];
    if (f->type == VKDP_CKPT_F64)
        snprintf(range, sizeof range, "a number in [%g, %g]%s", f->lo, f->hi,
                 f->flags & VKDP_CKPT_NAN_OK ? " or NaN" : "");
    else
        snprintf(range, sizeof range, "an integer in %" PRId64 "..%" PRId64, f->ilo, f->ihi);
    return vkdp_h5_fail(io, "%s %s = %s is out of range (expected %s)", where, name, value,
                        range);
}

/* Reads one numeric field at its widest type, checks it, then stores it at the member's type. */
static int read_number(vkdp_h5_io *io, hid_t g, const char *where, const char *name,
                       const vkdp_ckpt_field *f, vkdp_ckpt_state *s)
{
    void *dst = (char *)s + f->offset;
    char value[64];
    if (f->type == VKDP_CKPT_F64) {
        double v;
        if (vkdp_h5_attr_read(io, g, where, name, H5T_NATIVE_DOUBLE, H5T_FLOAT, &v) < 0)
            return -1;
        if (!(v >= f->lo && v <= f->hi) && !(isnan(v) && (f->flags & VKDP_CKPT_NAN_OK))) {
            snprintf(value, sizeof value, "%g", v);
            return out_of_range(io, where, name, f, value);
        }
        if (!(f->flags & VKDP_CKPT_ALIAS))
            memcpy(dst, &v, sizeof v);
        return 0;
    }
    if (f->type == VKDP_CKPT_U64) {
        uint64_t v;
        if (vkdp_h5_attr_read(io, g, where, name, H5T_NATIVE_UINT64, H5T_INTEGER, &v) < 0)
            return -1;
        memcpy(dst, &v, sizeof v);
        return 0;
    }
    int64_t v;
    if (vkdp_h5_attr_read(io, g, where, name, H5T_NATIVE_INT64, H5T_INTEGER, &v) < 0)
        return -1;
    if (v < f->ilo || v > f->ihi) {
        snprintf(value, sizeof value, "%" PRId64, v);
        return out_of_range(io, where, name, f, value);
    }
    if (f->flags & VKDP_CKPT_ALIAS)
        return 0;
    if (f->type == VKDP_CKPT_I32) {
        int i = (int)v;
        memcpy(dst, &i, sizeof i);
    } else {
        memcpy(dst, &v, sizeof v);
    }
    return 0;
}

int ckpt_fields_read_as(vkdp_h5_io *io, hid_t g, const char *where, const char *group, const char *prefix,
                        vkdp_ckpt_state *s)
{
    char name[96];
    for (size_t i = 0; i < VKDP_ARRAY_LEN(fields); i++) {
        const vkdp_ckpt_field *f = &fields[i];
        if (strcmp(f->group, group))
            continue;
        attr_name(prefix, f, name, sizeof name);
        if (f->flags & VKDP_CKPT_OPTIONAL) {
            htri_t ex = H5Aexists(g, name);
            if (ex < 0)
                return vkdp_h5_fail_h5(io, "%s: cannot look up attribute %s", where, name);
            if (ex == 0) {
                /* absent: the field's default (0 / "" but where dflt names another) */
                if (f->type == VKDP_CKPT_F64)
                    memcpy((char *)s + f->offset, &f->dflt, sizeof f->dflt);
                continue;
            }
        }
        int rc = f->type == VKDP_CKPT_STR
                     ? vkdp_h5_attr_read_str(io, g, where, name, (char *)s + f->offset, f->size)
                     : read_number(io, g, where, name, f, s);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int ckpt_fields_read(vkdp_h5_io *io, hid_t g, const char *group, vkdp_ckpt_state *s)
{
    char where[32];
    snprintf(where, sizeof where, "/%s", group);
    return ckpt_fields_read_as(io, g, where, group, "", s);
}
