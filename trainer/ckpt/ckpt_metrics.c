/* The metrics history of a checkpoint: /metrics/epoch and /metrics/step, chunked compressed
 * compound tables, written and read (row counts checked against /state before allocating). */
#include <inttypes.h>
#include <stdlib.h>

#include "ckpt_io.h"

/* Insert failures can only come from a broken HDF5 library: they are programming errors. */
#define INSERT(t, s, field, h5t)                                                                 \
    do {                                                                                         \
        if (H5Tinsert(t, #field, HOFFSET(s, field), h5t) < 0)                                    \
            VKDP_FATAL("H5Tinsert(%s.%s) failed", #s, #field);                                   \
    } while (0)

static hid_t epoch_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(vkdp_epoch_metrics));
    if (t < 0)
        VKDP_FATAL("H5Tcreate(compound vkdp_epoch_metrics) failed");
    INSERT(t, vkdp_epoch_metrics, epoch, H5T_NATIVE_INT32);
    INSERT(t, vkdp_epoch_metrics, loss, H5T_NATIVE_DOUBLE);
    INSERT(t, vkdp_epoch_metrics, accuracy, H5T_NATIVE_DOUBLE);
    INSERT(t, vkdp_epoch_metrics, val_loss, H5T_NATIVE_DOUBLE);
    INSERT(t, vkdp_epoch_metrics, val_accuracy, H5T_NATIVE_DOUBLE);
    INSERT(t, vkdp_epoch_metrics, images_per_s, H5T_NATIVE_DOUBLE);
    INSERT(t, vkdp_epoch_metrics, seconds, H5T_NATIVE_DOUBLE);
    INSERT(t, vkdp_epoch_metrics, skipped, H5T_NATIVE_INT64);
    return t;
}

static hid_t step_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(vkdp_step_metrics));
    if (t < 0)
        VKDP_FATAL("H5Tcreate(compound vkdp_step_metrics) failed");
    INSERT(t, vkdp_step_metrics, step, H5T_NATIVE_INT64);
    INSERT(t, vkdp_step_metrics, loss, H5T_NATIVE_DOUBLE);
    INSERT(t, vkdp_step_metrics, accuracy, H5T_NATIVE_DOUBLE);
    INSERT(t, vkdp_step_metrics, lr, H5T_NATIVE_DOUBLE);
    return t;
}

int ckpt_metrics_write(vkdp_h5_io *io, hid_t f, const vkdp_ckpt_state *s)
{
    hid_t g = vkdp_h5_group_create(io, f, "metrics");
    if (g < 0)
        return -1;
    hid_t et = epoch_type(), st = step_type();
    hsize_t ne[1] = {(hsize_t)s->nepochs_m}, ns[1] = {(hsize_t)s->nsteps_m};
    hsize_t ce[1] = {64}, cs[1] = {1024};
    int rc = vkdp_h5_dset_write(io, g, "epoch", et, et, 1, ne, ce, s->epoch_m);
    if (rc == 0)
        rc = vkdp_h5_dset_write(io, g, "step", st, st, 1, ns, cs, s->step_m);
    H5Tclose(et);
    H5Tclose(st);
    if (H5Gclose(g) < 0 && rc == 0)
        rc = vkdp_h5_fail_h5(io, "cannot close group /metrics");
    return rc;
}

/* Every field of memtype must be a numeric field of the file's compound type. */
static int check_fields(vkdp_h5_io *io, hid_t ds, hid_t memtype, const char *full)
{
    hid_t ty = H5Dget_type(ds);
    if (ty < 0 || H5Tget_class(ty) != H5T_COMPOUND) {
        if (ty >= 0)
            H5Tclose(ty);
        return vkdp_h5_fail(io, "table %s is not a compound dataset", full);
    }
    int rc = 0, nm = H5Tget_nmembers(memtype);
    for (int i = 0; i < nm && rc == 0; i++) {
        char *field = H5Tget_member_name(memtype, (unsigned)i);
        int idx = field ? H5Tget_member_index(ty, field) : -1;
        hid_t ft = idx >= 0 ? H5Tget_member_type(ty, (unsigned)idx) : -1;
        H5T_class_t c = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
        if (ft >= 0)
            H5Tclose(ft);
        if (c != H5T_INTEGER && c != H5T_FLOAT)
            rc = vkdp_h5_fail(io, "table %s has no numeric field '%s'", full, field ? field : "?");
        H5free_memory(field);
    }
    H5Eclear2(H5E_DEFAULT);
    H5Tclose(ty);
    return rc;
}

/* Rows are allocated with a power-of-two capacity: vkdp_ckpt_add_step_metrics grows the array
 * by doubling, so a state read here can be appended to. */
static int read_table(vkdp_h5_io *io, hid_t g, const char *name, hid_t memtype, int64_t want,
                      const char *want_what, void **rows)
{
    char full[64];
    snprintf(full, sizeof full, "/metrics/%s", name);
    *rows = NULL;
    vkdp_h5_dset d;
    int ex = vkdp_h5_dset_open(io, g, name, full, 1, INT32_MAX, &d);
    if (ex <= 0)
        return ex < 0 ? -1 : vkdp_h5_fail(io, "missing table %s (" CKPT_HINT ")", full);
    int rc = 0;
    if (check_fields(io, d.id, memtype, full) < 0)
        rc = -1;
    else if (d.rank != 1)
        rc = vkdp_h5_fail(io, "table %s is not one-dimensional", full);
    else if (d.count != want)
        rc = vkdp_h5_fail(io, "table %s has %" PRId64 " rows but /state has %s = %" PRId64, full,
                          d.count, want_what, want);
    if (rc == 0 && d.count > 0) {
        size_t bytes = (size_t)d.count * H5Tget_size(memtype), cap = 1;
        while (cap < (size_t)d.count)
            cap *= 2;
        *rows = vkdp_xcalloc(cap, H5Tget_size(memtype));
        rc = vkdp_h5_dset_read(io, &d, full, memtype, *rows, bytes);
    }
    vkdp_h5_dset_close(&d);
    return rc;
}

int ckpt_metrics_read(vkdp_h5_io *io, hid_t f, vkdp_ckpt_state *s)
{
    hid_t g = vkdp_h5_group_open(io, f, "metrics", "/metrics");
    if (g < 0)
        return -1;
    hid_t et = epoch_type(), st = step_type();
    void *rows = NULL;
    int rc = read_table(io, g, "epoch", et, s->epoch, "epoch (completed epochs)", &rows);
    s->epoch_m = rows;
    s->nepochs_m = rc == 0 ? s->epoch : 0;
    if (rc == 0) {
        rc = read_table(io, g, "step", st, s->global_step, "global_step", &rows);
        s->step_m = rows;
        s->nsteps_m = rc == 0 ? s->global_step : 0;
    }
    H5Tclose(et);
    H5Tclose(st);
    H5Gclose(g);
    return rc;
}
