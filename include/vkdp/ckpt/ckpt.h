/* Training checkpoints: one HDF5 file holds everything needed to continue a run exactly (config,
 * head weights in the legacy Keras layout, Adam moments, sampler position, metrics history).
 *
 * File layout (every name below is fixed; `trainer info FILE` prints it all):
 *   /config      attribute class_names (variable-length UTF-8 string array, label order) and the
 *                scalar attributes of vkdp_ckpt_fields() whose group is "config"
 *   /head        attribute layer_names; one group per layer with attribute weight_names
 *                ("<layer>/<weight>:0"), tensors at /head/<layer>/<layer>/<weight>:0 (float32),
 *                e.g. /head/pred/pred/kernel:0 [1280, C], /head/head_bn/head_bn/gamma:0 [1280]
 *   /backbone    same layout, only when backbone_trainable (else the backbone is the weights
 *                file named by weights_sha256)
 *   /optimizer   the "optimizer" fields and attribute slot_names; datasets m/<tensor name> and
 *                v/<tensor name> (same names and shapes as the weights)
 *   /state       the "state" fields: loop position and the epoch in progress's running sums
 *   /metrics/epoch  chunked, extendable, deflate-compressed compound table (vkdp_epoch_metrics),
 *                one row per completed epoch
 *   /metrics/step   the same (vkdp_step_metrics), one row per step (global_step rows)
 *
 * Writes are failure-safe (vkdp/h5/atomic_file.h): the file is built in memory, written to
 * dir/.tmp-<name>.<host>.<pid>, fsynced, renamed into place and the directory fsynced; then
 * dir/latest.h5 (a relative symlink) is replaced atomically. Any failure leaves the previous
 * checkpoints and latest.h5 as they were. Reads treat the file as hostile (vkdp/h5/h5.h): every
 * field is range-checked and every shape checked before anything is allocated for it. */
#ifndef VKDP_CKPT_H
#define VKDP_CKPT_H
#include <stddef.h>
#include <stdint.h>

#define VKDP_CKPT_LATEST "latest.h5"
/* /config drop_connect_rate when absent: Keras' EfficientNetB0 default, what every fine-tuning run
 * trained at before --drop-connect-rate (the flag's default too: VKDP_EFFNET_DROP_CONNECT_RATE). */
#define VKDP_CKPT_DROP_CONNECT_DEFAULT 0.2

typedef struct {
    char name[128];     /* Keras layout "<layer>/<layer>/<weight>:0", e.g. "pred/pred/kernel:0" */
    int rank;           /* 0..4 */
    int64_t shape[4];   /* row-major, last dimension fastest; unused entries 0 */
    float *data;        /* malloc'd, prod(shape) values; freed by vkdp_ckpt_state_free */
} vkdp_named_tensor;

/* One row of /metrics/epoch. Validation values are NaN when there is no validation split. */
typedef struct {
    int32_t epoch;          /* 1-based epoch this row summarises */
    double loss, accuracy;  /* training, averaged over the epoch's batches */
    double val_loss, val_accuracy;
    double images_per_s;    /* training throughput over all ranks */
    double seconds;         /* wall time of the epoch (training + validation) */
    int64_t skipped;        /* images skipped (undecodable) during the epoch */
} vkdp_epoch_metrics;

/* One row of /metrics/step. */
typedef struct {
    int64_t step;           /* global step after this update (1-based) */
    double loss, accuracy;  /* of this step's global batch */
    double lr;              /* learning rate used for this update */
} vkdp_step_metrics;

/* Everything a checkpoint holds. Every pointer is malloc'd (or NULL) and owned by the state:
 * vkdp_ckpt_state_free frees them all, so a state built by hand must use malloc for them too. */
typedef struct {
    /* ---- config: what the run was started with ---- */
    int nclasses;
    char **class_names;         /* [nclasses], in label order (sorted folder names) */
    int image_size;             /* square input side in pixels (180 in the tutorial) */
    uint64_t seed;              /* --seed: the validation split (and the draws unless --draw-seed) */
    int batch;                  /* global batch size */
    int epochs;                 /* epochs requested */
    double lr;                  /* base learning rate */
    double dropout;             /* dropout rate of the head */
    double validation_split;    /* fraction of the images held out for validation */
    int nranks;                 /* MPI ranks the checkpoint was written by (resume may differ) */
    char data_dir[4096];        /* --data as given */
    char weights_file[4096];    /* backbone weights file as given */
    char weights_sha256[65];    /* lowercase hex SHA-256 of weights_file */
    int backbone_trainable;     /* 1: backbone tensors are in `backbone`; 0: weights_file is used */
    int augment;                /* --augment: training images augmented (a resume must agree) */
    int fine_tune_epochs;       /* --fine-tune-epochs (phase 2, docs/fine-tuning.md); 0: none */
    double fine_tune_lr;        /* --fine-tune-lr; 0 when fine_tune_epochs is 0 */
    double drop_connect_rate;   /* --drop-connect-rate (phase 2's drop connect); a checkpoint without
                                   it, older ones included, means VKDP_CKPT_DROP_CONNECT_DEFAULT */
    int drop_connect_all;       /* --drop-connect all: drop connect in the frozen residual blocks too
                                   (a resume must agree); 0, or absent: the trainable ones only */
    char fine_tune_from[16];    /* the trainable part's first block or "top_conv"; "" when none */
    char version[32];           /* VKDP_VERSION of the writer (filled by vkdp_ckpt_state_init) */
    char git_commit[48];        /* VKDP_GIT_COMMIT of the writer (filled by vkdp_ckpt_state_init) */
    char created[64];           /* ISO-8601 UTC; vkdp_ckpt_write fills it when empty */
    int from_export;            /* 1: read from a Keras export (vkdp_keras_import): config, class
                                   names and head weights only; no optimizer state, loop position
                                   or metrics; weights_file is the export itself */

    /* ---- weights ---- */
    int nweights;
    vkdp_named_tensor *weights;  /* head: "head_bn/head_bn/{gamma,beta,moving_mean,moving_variance}:0"
                                    [F], "pred/pred/kernel:0" [F, nclasses], "pred/pred/bias:0" */
    int nbackbone;
    vkdp_named_tensor *backbone; /* only when backbone_trainable, names as in the weights file */

    /* ---- Adam optimizer ---- */
    int64_t iterations;          /* updates applied so far (Keras optimizer.iterations) */
    double beta1, beta2, epsilon;
    int nslots;                  /* one per trainable tensor */
    vkdp_named_tensor *adam_m;   /* [nslots], same name and shape as the tensor it belongs to */
    vkdp_named_tensor *adam_v;   /* [nslots], in the same order as adam_m */

    /* ---- sampler / loop position ----
     * The epoch permutation derives from (seed, epoch), so (epoch, step_in_epoch) is the
     * sampler's exact position; dropout masks derive from (dropout_seed, global_step). */
    int epoch;                   /* completed epochs */
    int64_t global_step;         /* updates applied since the start of the run */
    int64_t step_in_epoch;       /* updates applied in the epoch in progress (0 at a boundary) */
    int64_t steps_per_epoch;     /* updates per epoch at the global batch size */
    uint64_t sampler_seed;       /* --draw-seed (default --seed): shuffle, augmentation, init */
    /* Running sums of the epoch in progress (0 at a boundary), so that a run resumed mid-epoch
     * reports bit-identical epoch metrics. */
    double epoch_loss_sum;
    int64_t epoch_correct, epoch_count, epoch_skipped;
    double epoch_seconds;
    uint64_t dropout_seed;

    /* ---- metrics history (the whole run so far; each checkpoint carries all of it) ---- */
    int nepochs_m;
    vkdp_epoch_metrics *epoch_m;
    int64_t nsteps_m;
    vkdp_step_metrics *step_m;
} vkdp_ckpt_state;

/* ---- /config, /state and /optimizer scalars, described once: this table drives the writer, the
 * reader (a value outside [lo, hi] is refused, naming the file, group and field) and `trainer
 * info`. class_names is the one /config attribute outside it (a string array). */
typedef enum { VKDP_CKPT_I32, VKDP_CKPT_I64, VKDP_CKPT_U64, VKDP_CKPT_F64, VKDP_CKPT_STR } vkdp_ckpt_type;

enum {
    VKDP_CKPT_NAN_OK = 1,  /* F64: NaN is valid too (a diverged run's loss sum) */
    VKDP_CKPT_ALIAS = 2,   /* written and range-checked, never stored: derived from other fields
                              (/optimizer lr is vkdp_ckpt_optimizer_lr) */
    VKDP_CKPT_OPTIONAL = 4, /* written only when not its default, 0 / "" unless dflt says another
                               (a setting added after the format: checkpoints without it, older
                               ones included, mean the default, which vkdp_ckpt_state_init sets) */
};

typedef struct {
    const char *group;      /* "config", "state" or "optimizer" */
    const char *name;       /* the attribute's name */
    vkdp_ckpt_type type;    /* I32: int member, I64: int64_t, U64: uint64_t, F64: double,
                               STR: char[size] */
    size_t offset;          /* in vkdp_ckpt_state */
    size_t size;            /* of the member */
    int64_t ilo, ihi;       /* valid range of I32 / I64 (U64: any value) */
    double lo, hi;          /* valid range of F64; NaN only with VKDP_CKPT_NAN_OK */
    int flags;
    const char *note;       /* printed after the value by `trainer info`, or NULL */
    double dflt;            /* OPTIONAL F64: the value left out of the file (0 unless given) */
} vkdp_ckpt_field;

/* The learning rate of the Adam in force at s: /config lr, or fine_tune_lr once phase 2 has taken
 * a step (Keras recompiles with a new Adam; at the boundary the checkpoint still holds phase 1's
 * iterations and moments). What /optimizer lr holds and `trainer info` shows. */
double vkdp_ckpt_optimizer_lr(const vkdp_ckpt_state *s);
/* Every field, grouped by group in file order ("config", "optimizer", "state"). */
const vkdp_ckpt_field *vkdp_ckpt_fields(size_t *n);
/* The field's value in s as text: integers in decimal, doubles as %g, strings as they are. */
void vkdp_ckpt_field_str(const vkdp_ckpt_field *f, const vkdp_ckpt_state *s, char *buf, size_t len);

/* Zeroes *s and fills version and git_commit with this build's, beta1/beta2/epsilon with Keras'
 * Adam defaults (0.9, 0.999, 1e-7). */
void vkdp_ckpt_state_init(vkdp_ckpt_state *s);
/* Frees every pointer in *s and zeroes it. NULL-safe. */
void vkdp_ckpt_state_free(vkdp_ckpt_state *s);

/* Appends a metrics row (growing the arrays). */
void vkdp_ckpt_add_epoch_metrics(vkdp_ckpt_state *s, const vkdp_epoch_metrics *m);
void vkdp_ckpt_add_step_metrics(vkdp_ckpt_state *s, const vkdp_step_metrics *m);

/* Finds a tensor by name among weights and backbone. */
const vkdp_named_tensor *vkdp_ckpt_find_weight(const vkdp_ckpt_state *s, const char *name);
int64_t vkdp_tensor_numel(const vkdp_named_tensor *t);
/* "[1280,5]" ("[]" for a scalar). */
void vkdp_tensor_shape_str(const vkdp_named_tensor *t, char *buf, size_t len);

/* Writes dir/ckpt-e<epoch>-s<global_step>.h5 (epoch zero-padded to 4 digits, step to 9) safely
 * (see the top of this file), points dir/latest.h5 at it and deletes the oldest checkpoints
 * beyond `keep` (keep <= 0 keeps all). Creates dir if missing. Also removes temporary files left
 * by writers on this host that died (their pid no longer exists). Returns 0 and the new file's path in
 * path_out (may be NULL), or -1 and a message in err; on failure nothing visible changed.
 * Test hook: env VKDP_CKPT_TEST_SLEEP=SECONDS sleeps after the temporary file is complete and
 * before it is renamed. */
int vkdp_ckpt_write(const char *dir, const vkdp_ckpt_state *s, int keep, char *path_out,
                    size_t path_len, char *err, size_t errlen);

/* Reads a checkpoint into *s (initialised here; free with vkdp_ckpt_state_free even on error).
 * Returns 0, or -1 with a message naming the file and what is wrong: not HDF5, truncated,
 * missing group / attribute / tensor, wrong shape or type, a field outside its range (naming the
 * group and field), /state inconsistent with itself or with the /metrics row counts, a tensor
 * over 2^28 values or declaring more data than the file stores (refused before allocating), or a
 * link, external storage or virtual dataset that would read outside the file. */
int vkdp_ckpt_read(const char *path, vkdp_ckpt_state *s, char *err, size_t errlen);

/* Resolves --resume: NULL, "" or "none" -> 0 (start fresh); "auto" -> dir/latest.h5 when it
 * exists (1, path in buf), else 0; a dangling latest.h5 is an error (-1), never a silent
 * restart; any other value is a checkpoint path that must exist (1, copied to buf) else -1. */
int vkdp_ckpt_resolve(const char *arg, const char *dir, char *buf, size_t buflen, char *err,
                      size_t errlen);

/* Checks that a run configured as `cmdline` may continue from checkpoint `ck`: class names
 * (and order), image size, backbone weights SHA-256, backbone_trainable and, for every tensor in
 * cmdline->weights (may be none), its shape must agree. Returns 0,
 * or -1 with a message naming the difference, e.g.
 * "checkpoint has classes [a,b] but --data has [a,c]". */
int vkdp_ckpt_check_compatible(const vkdp_ckpt_state *ck, const vkdp_ckpt_state *cmdline,
                               char *err, size_t errlen);

/* ISO-8601 UTC of now, "2026-01-31T12:34:56Z". */
void vkdp_ckpt_utc_now(char *buf, size_t len);

/* ---- the checkpoint folder (--out), prepared before any compute ---- */
#define VKDP_CKPT_LOCK ".vkdp-lock"
typedef struct vkdp_ckpt_lock vkdp_ckpt_lock;
/* Creates dir (and its parents) and takes its exclusive lock: dir/.vkdp-lock, held with flock
 * and holding "host H pid P since T". Another job's lock: NULL and "--out DIR is in use by
 * another job (host H pid P ...)". A lock file left by a job that ended without releasing it
 * (flock free; or, where the filesystem has no flock, its pid gone on this host) is taken over
 * with a warning. Released by vkdp_ckpt_lock_release or at exit; the kernel drops the flock
 * however the process ends. */
vkdp_ckpt_lock *vkdp_ckpt_lock_take(const char *dir, char *err, size_t errlen);
void vkdp_ckpt_lock_release(vkdp_ckpt_lock *l);
/* Writes, fsyncs and removes a test file in dir, then checks that the filesystem has room for
 * two checkpoints of ckpt_bytes (the new one is written next to the previous): 0, or -1 with
 * "--out DIR is not writable: ..." / "--out DIR has X MB free, less than two checkpoints ...". */
int vkdp_ckpt_dir_probe(const char *dir, uint64_t ckpt_bytes, char *err, size_t errlen);
/* An upper bound of the size of a checkpoint of s's tensors once the metrics hold total_steps
 * step rows and total_epochs epoch rows. */
uint64_t vkdp_ckpt_estimate_bytes(const vkdp_ckpt_state *s, int64_t total_steps, int total_epochs);

#endif
