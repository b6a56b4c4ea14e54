/* `trainer train --csv-log FILE`: Keras' CSVLogger file, one row per finished epoch.
 *
 * Format, as Keras writes it: header "epoch,accuracy,loss,val_accuracy,val_loss" (the metric
 * names sorted; without a validation split "epoch,accuracy,loss"), epoch 0-based, values as
 * Python's repr() of the double (shortest round-trip: "0.8746594190597534", "nan"), CRLF line
 * ends (the csv module's excel dialect).
 *
 * A fresh run truncates FILE (Keras' append=False). A resumed run appends (append=True) after
 * reconciling FILE with the checkpoint, so that a crash at any moment leaves neither a missing
 * nor a duplicate row: rows of epochs the checkpoint has not finished are dropped, rows it has
 * finished but FILE lacks are written from the checkpoint's /metrics/epoch, and a torn last line
 * is removed. A FILE with another header is refused (it is someone else's log).
 * Only rank 0 calls these; every error is fatal with the file's name. */
#ifndef VKDP_CSV_LOG_H
#define VKDP_CSV_LOG_H
#include "vkdp/ckpt/ckpt.h"

/* hist[0..nhist): the epochs already finished (the resumed checkpoint's rows; none when fresh). */
void vkdp_csv_log_start(const char *path, int has_val, int resumed, const vkdp_epoch_metrics *hist,
                        int nhist);
/* Appends epoch m (m->epoch is 1-based, written 0-based), flushed and fsynced. */
void vkdp_csv_log_append(const char *path, int has_val, const vkdp_epoch_metrics *m);

/* Python's repr() of a double: "0.1", "1e-05", "1.5e+16", "nan", "-inf". buf >= 32 bytes. */
void vkdp_py_float_repr(double v, char *buf, size_t len);

#endif
