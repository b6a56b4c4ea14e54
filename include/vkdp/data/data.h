/* Image-folder dataset: Keras `image_dataset_from_directory` semantics in C.
 *
 *   index   class folders -> files (Keras' index_directory order), headers probed
 *   split   numpy RandomState(seed).shuffle of that list, then the validation tail
 *   decode  libjpeg-turbo to RGB uint8 (TF decode_image settings: IFAST DCT, fancy upsampling)
 *   resize  tf.image.resize(bilinear, antialias=False): half-pixel centres, float32 in [0,255]
 *   shard   each global batch split into contiguous per-rank slices
 *   loader  decode thread pool filling a ring of ready batches ahead of the consumer
 *
 * Keras equivalence: with a folder of valid JPEGs the split (files and order) is exactly Keras'.
 * Deviation on bad input only: files whose JPEG header is invalid (unreadable, empty, not JPEG
 * data, dimensions over VKDP_MAX_IMAGE_SIDE or the pixel budget) are excluded from the index with a reported reason,
 * whereas Keras keeps them in its list (and fails when it reaches them), so the split then differs.
 * PNG/BMP/GIF files, which Keras would list, are not decoded here: they are counted and reported.
 */
#ifndef VKDP_DATA_H
#define VKDP_DATA_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VKDP_MAX_IMAGE_SIDE 16384
/* Default per-image pixel budget (--max-pixels): 50 MP, checked from the header before any pixel
 * buffer is allocated (a 631-byte file can declare 16384x16384, ~805 MB decoded). */
#define VKDP_DEFAULT_MAX_PIXELS 50000000

/* ---- index ---- */
typedef struct {
    char *path;   /* full path as listed by Keras: root/class/relative path */
    char *reason; /* why it was excluded (or, for skipped_types, "PNG image (only JPEG is decoded)") */
} vkdp_excluded;

typedef struct {
    char *root;          /* data folder, trailing slashes removed */
    int nclasses;
    char **class_names;  /* label k = class_names[k] */
    int *class_counts;   /* usable files per class */
    int n;               /* usable files, Keras' pre-shuffle order (class by class, sorted walk) */
    char **rel;          /* "class/relative/path.jpg" */
    int *label;
    int *width, *height; /* from the header probe */
    int64_t *bytes;      /* file sizes at indexing */
    int nexcluded;       /* listed by Keras' rules but unusable: invalid header etc. */
    vkdp_excluded *excluded;
    int nskipped_types;  /* .png/.bmp/.gif files Keras would list but we do not decode */
    vkdp_excluded *skipped_types;
    int nempty_classes;  /* class folders with no usable image (reported, not fatal) */
    int nduplicates;     /* of the excluded: files reached again (symlink, hard link) */
} vkdp_index;

/* Builds the index of `dir`. class_names: NULL to infer (sorted non-hidden subfolders), else the
 * given classes in the given order (each must be a subfolder). Returns 0, or -1 with a message in
 * err (missing/unreadable folder, no class folders, unknown class, no usable image at all). */
int vkdp_index_build(const char *dir, const char *const *class_names, int nclass_names,
                     vkdp_index *out, char *err, size_t errlen);
void vkdp_index_free(vkdp_index *idx);
/* Full path of file `id` into buf (returns buf). */
const char *vkdp_index_path(const vkdp_index *idx, int id, char *buf, size_t len);

/* The per-image pixel budget (width * height) of every later probe and decode, process-wide:
 * set it before indexing or starting a loader (default VKDP_DEFAULT_MAX_PIXELS). An image over
 * it is refused from its header, before decoding, with the reason. */
void vkdp_jpeg_set_max_pixels(int64_t max_pixels);
int64_t vkdp_jpeg_max_pixels(void);

/* Probes a JPEG header: returns 0 and the size, or -1 with the reason. Reads the first 64 KiB,
 * then the whole file when the header lies further (large EXIF). */
int vkdp_jpeg_probe(const char *path, int *width, int *height, char *reason, size_t len);

/* ---- numpy-compatible random numbers (MT19937, legacy RandomState) ---- */
typedef struct {
    uint32_t key[624];
    int pos;
} vkdp_mt19937;

void vkdp_mt_seed(vkdp_mt19937 *mt, uint32_t seed); /* init_genrand, = RandomState(seed) */
uint32_t vkdp_mt_next(vkdp_mt19937 *mt);
/* numpy random_interval: uniform in [0, max] by masked rejection sampling. */
uint64_t vkdp_mt_interval(vkdp_mt19937 *mt, uint64_t max);
/* numpy RandomState.shuffle of a 1-D sequence (Fisher-Yates from the end). */
void vkdp_mt_shuffle_int(vkdp_mt19937 *mt, int *x, size_t n);

/* ---- split ---- */
typedef struct {
    int *train, ntrain; /* index ids, Keras' order */
    int *val, nval;
} vkdp_split;

/* Keras: shuffle all ids with RandomState(seed), num_val = int(validation_split * n),
 * training = first n - num_val, validation = last num_val. validation_split in [0, 1). */
void vkdp_split_make(const vkdp_index *idx, uint32_t seed, double validation_split, vkdp_split *out);
void vkdp_split_free(vkdp_split *s);
/* SHA-256 (hex) of what every rank must agree on before training: the classes, each file's
 * relative path, size and label, and the split (training and validation ids in order). */
void vkdp_index_digest(const vkdp_index *idx, const vkdp_split *split, char hex[65]);

/* Prints the Keras-style summary to f: "Found N files belonging to K classes.", per-class counts,
 * every excluded/skipped file with its reason, and (split non-NULL) "Using N files for
 * training." / "Using M files for validation.". */
void vkdp_dataset_print_summary(const vkdp_index *idx, const vkdp_split *split, FILE *f);

/* Training order of an epoch: a permutation of items[0..n) that depends on (seed, epoch) only
 * (MT19937 seeded with a hash of both, then the numpy shuffle), the same on every rank and for
 * every number of ranks. out may alias items. Validation keeps split.val's order every epoch. */
void vkdp_epoch_order(const int *items, int n, uint32_t seed, int epoch, int *out);

/* ---- decode and resize ---- */
/* Decodes a JPEG file to packed RGB uint8 (grayscale and CMYK/YCCK converted as TF does; EXIF
 * orientation ignored). Returns 0 and a malloc'ed *rgb, or -1 with the reason (no allocation). */
int vkdp_jpeg_decode_file(const char *path, uint8_t **rgb, int *width, int *height, char *reason,
                          size_t len);
int vkdp_jpeg_decode_mem(const uint8_t *data, size_t size, uint8_t **rgb, int *width, int *height,
                         char *reason, size_t len);

/* The same with a choice of inverse DCT: accurate_dct = 0 is TF's decode_image (JDCT_IFAST, what
 * Keras feeds the network), 1 the accurate integer DCT (JDCT_ISLOW, e.g. Pillow's default). */
int vkdp_jpeg_decode_file_dct(const char *path, int accurate_dct, uint8_t **rgb, int *width,
                              int *height, char *reason, size_t len);
int vkdp_jpeg_decode_mem_dct(const uint8_t *data, size_t size, int accurate_dct, uint8_t **rgb,
                             int *width, int *height, char *reason, size_t len);

/* Reusable decoder (one per thread): keeps its TurboJPEG handle and file/pixel buffers, so a
 * decode loop does not allocate. *rgb points into the decoder and stays valid until its next call. */
typedef struct vkdp_jpeg_decoder vkdp_jpeg_decoder;
vkdp_jpeg_decoder *vkdp_jpeg_decoder_create(void);
int vkdp_jpeg_decoder_file(vkdp_jpeg_decoder *d, const char *path, int accurate_dct,
                           const uint8_t **rgb, int *width, int *height, char *reason, size_t len);
int vkdp_jpeg_decoder_mem(vkdp_jpeg_decoder *d, const uint8_t *data, size_t size,
                          int accurate_dct, const uint8_t **rgb, int *width, int *height,
                          char *reason, size_t len);
void vkdp_jpeg_decoder_destroy(vkdp_jpeg_decoder *d);

/* tf.image.resize(method="bilinear", antialias=False) of a packed RGB uint8 image: float32
 * [out_h, out_w, 3], values in [0, 255], not rounded (TF's ResizeBilinear, half_pixel_centers). */
void vkdp_resize_bilinear_rgb(const uint8_t *src, int in_h, int in_w, float *dst, int out_h,
                              int out_w);

/* ---- data-parallel sharding of an epoch's order ---- */
/* Steps per epoch: ceil(n / global_batch) (0 when n == 0); the same on every rank. */
int vkdp_num_steps(int n, int global_batch);
/* Positions [lo, hi) of the epoch order that `rank` handles in `step`: the step's batch covers
 * [step*B, min(n, (step+1)*B)); rank r gets its [floor(r*m/P), floor((r+1)*m/P)) slice. */
void vkdp_shard_range(int n, int global_batch, int step, int rank, int nranks, int *lo, int *hi);

/* ---- prefetching loader ---- */
typedef struct {
    int step;               /* 0-based step of the epoch */
    int count;              /* usable samples of this rank in this step (may be 0) */
    int image_size;         /* S */
    float *images;          /* [count, S, S, 3], float32 in [0, 255] */
    int *labels;            /* [count] */
    int *ids;               /* [count] index ids */
    int *pos;               /* [count] position in the epoch order (global sample index) */
    int skipped;            /* samples of this rank's slice dropped because their decode failed */
    int global_lo, global_hi; /* this rank's slice [lo, hi) of the epoch order */
    int slot_;              /* private */
} vkdp_batch;

typedef struct vkdp_loader vkdp_loader;

/* items: index ids in the epoch's order (copied). threads <= 0: online cores / nranks (>= 1).
 * ring_depth <= 0: 3. Memory: ring_depth * ceil(global_batch / nranks) * S*S*3 floats.
 * Decoding starts immediately. */
vkdp_loader *vkdp_loader_create(const vkdp_index *idx, const int *items, int nitems,
                                int global_batch, int rank, int nranks, int image_size,
                                int threads, int ring_depth);
int vkdp_loader_steps(const vkdp_loader *l);
/* Starts over with a new epoch order (any length), keeping threads and ring memory, which spares
 * page-faulting fresh ring buffers when one loader serves many epochs (tests/bench/bench_decode).
 * The training loop does not: it creates a loader only for a phase whose images are not all in
 * the feature cache, which with the cache on is the first epoch and the first validation only.
 * Batches of the previous order must all be released; unfinished prefetches are dropped. */
void vkdp_loader_restart(vkdp_loader *l, const int *items, int nitems);
/* Returns 1 and fills b with the next step's batch (blocking until decoded), 0 after the last
 * step. The batch's memory stays valid until vkdp_loader_release(l, b). Up to ring_depth - 1
 * batches may be held at once. */
int vkdp_loader_next(vkdp_loader *l, vkdp_batch *b);
void vkdp_loader_release(vkdp_loader *l, vkdp_batch *b);
/* Stops the workers (also mid-epoch) and frees everything. */
void vkdp_loader_destroy(vkdp_loader *l);

#endif
