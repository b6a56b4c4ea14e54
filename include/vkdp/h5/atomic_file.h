/* The one atomic file writer (checkpoints, `trainer features`): bytes go to a temporary name in
 * the target's directory, are fsynced, renamed over the target and the directory is fsynced, so a
 * crash or a full disk leaves either the old file or the complete new one, never a torn one.
 *
 * Temporary names are "<dir>/.tmp-<name>.<host>.<pid>": a writer that died is recognised by its
 * pid only on its own host (the directory may be on a file system shared by several nodes), and
 * vkdp_atomic_remove_stale deletes what such writers left. Errors go to io->err, prefixed with
 * io->path (the target). */
#ifndef VKDP_ATOMIC_FILE_H
#define VKDP_ATOMIC_FILE_H
#include <stddef.h>

#include "vkdp/h5/h5.h"

#define VKDP_ATOMIC_TMP_PREFIX ".tmp-"

typedef struct {
    char final[4400];
    char tmp[4400];
    char dir[4400];
} vkdp_atomic_file;

/* This host's name ("localhost" when it has none), as used in temporary names. */
const char *vkdp_host_name(void);
/* "<dir>/.tmp-<name>.<host>.<pid>" into buf; -1 when it does not fit. */
int vkdp_atomic_temp_name(char *buf, size_t len, const char *dir, const char *name);

/* Step 1: writes data to a new temporary file next to final (created exclusively), fsyncs and
 * closes it. On failure the temporary file is removed and nothing visible changed. */
int vkdp_atomic_write_temp(vkdp_h5_io *io, vkdp_atomic_file *a, const char *final,
                           const void *data, size_t len);
/* Step 2: renames the temporary file over the target and fsyncs the directory. A failed rename
 * removes the temporary file; a failed directory fsync leaves the renamed file in place. */
int vkdp_atomic_commit(vkdp_h5_io *io, vkdp_atomic_file *a);
/* Instead of step 2: removes the temporary file. */
void vkdp_atomic_abort(vkdp_atomic_file *a);
/* Steps 1 and 2, removing the stale temporary files of final's directory on the way
 * (vkdp_atomic_remove_stale). */
int vkdp_atomic_write(vkdp_h5_io *io, const char *final, const void *data, size_t len);

/* Removes dir's temporary files of writers on this host whose pid no longer exists (with a
 * warning naming each); another host's are left alone. */
void vkdp_atomic_remove_stale(const char *dir);
int vkdp_fsync_dir(vkdp_h5_io *io, const char *dir);

#endif
