/* EfficientNetB0 (Keras keras.applications.EfficientNetB0, include_top=False): the network's
 * structure, its weights read by name from the official Keras .h5 file, BN folded into the
 * preceding convolutions for the frozen backbone, and a plain-C reference forward pass.
 *
 * Layouts (NHWC activations, Keras HWIO kernels):
 *   1x1 conv weights [Cin, Cout] (row-major, Cout fastest), biases [Cout];
 *   depthwise weights [k, k, C] (C fastest); stem weights [3, 3, 3, 32] (HWIO). */
#ifndef VKDP_EFFNET_H
#define VKDP_EFFNET_H
#include <stddef.h>
#include <stdint.h>

#include "vkdp/ops/conv_geom.h"

#define VKDP_EFFNET_BLOCKS 16
#define VKDP_EFFNET_FEATURES 1280
#define VKDP_EFFNET_BN_EPS 1e-3f

/* One tensor as stored in the file (unfolded), kept for fine-tuning and checkpoints. */
typedef struct {
    char name[96];      /* "/<layer>/<layer>/<weight>:0" as in the file, e.g. "stem_bn/stem_bn/gamma:0" */
    int rank;
    int64_t shape[4];
    float *data;
    int was_missing;    /* initialised by --allow-missing-weights, not read from the file */
} vkdp_tensor;

typedef struct {
    char name[16];      /* "block1a", "block2b", ... */
    int kernel, stride, expand;
    int in_ch, out_ch;
    int exp_ch;         /* in_ch * expand */
    int se_ch;          /* max(1, (int)(in_ch * 0.25)) */
    int has_expand;     /* expand != 1 */
    int has_residual;   /* stride == 1 && in_ch == out_ch */
    /* BN-folded parameters (conv followed by its BN == conv with these weights + bias): */
    float *expand_w, *expand_b;   /* [in_ch, exp_ch], [exp_ch]   (NULL when !has_expand); swish */
    float *dw_w, *dw_b;           /* [k, k, exp_ch], [exp_ch]; swish */
    float *se_reduce_w, *se_reduce_b; /* [exp_ch, se_ch], [se_ch]; swish */
    float *se_expand_w, *se_expand_b; /* [se_ch, exp_ch], [exp_ch]; sigmoid, multiplies dw output */
    float *project_w, *project_b; /* [exp_ch, out_ch], [out_ch]; no activation; + residual */
} vkdp_mbconv;

typedef struct {
    /* Input x in [0,255] becomes x * in_scale[c] + in_shift[c] before the stem's zero padding
     * (Keras: Rescaling(1/255) -> Normalization(mean, variance) -> Rescaling(1/sqrt(stddev))). */
    float in_scale[3], in_shift[3];
    float *stem_w, *stem_b;       /* [3,3,3,32], [32], BN folded; swish */
    int nblocks;
    vkdp_mbconv blocks[VKDP_EFFNET_BLOCKS];
    float *top_w, *top_b;         /* [320, 1280], [1280], BN folded; swish */
    /* Every tensor of the file (unfolded), in file order. */
    int ntensors;
    vkdp_tensor *tensors;
    char sha256[65];              /* of the weights file */
    char path[4096];
} vkdp_effnet;

/* vkdp_effnet_load flags. ALLOW_MISSING: initialise missing tensors as Keras would (seeded) and
 * warn once. TUTORIAL_HEAD: the file is the Keras tutorial's whole model (`trainer export`), whose
 * head layers batch_normalization and pred hold weights that are not EfficientNetB0's: skipped,
 * where any other layer with weights outside EfficientNetB0 is refused. */
enum { VKDP_EFFNET_ALLOW_MISSING = 1, VKDP_EFFNET_TUTORIAL_HEAD = 2 };

/* Reads the Keras weights file by layer/weight name, checking every shape. On error (not HDF5,
 * missing tensor, shape mismatch) writes a message naming the file and tensor into err and
 * returns -1. flags: VKDP_EFFNET_* above, or 0. */
int vkdp_effnet_load(vkdp_effnet *net, const char *path, int flags, uint64_t seed,
                     char *err, size_t errlen);
void vkdp_effnet_free(vkdp_effnet *net);
const vkdp_tensor *vkdp_effnet_tensor(const vkdp_effnet *net, const char *name);
/* Replaces a file tensor (a fine-tuned one, from a checkpoint's /backbone named src): it must
 * exist with the same shape and hold finite values, else -1 and a message naming src and the
 * tensor. The folded parameters are stale until vkdp_effnet_refold. */
int vkdp_effnet_set_tensor(vkdp_effnet *net, const char *name, int rank, const int64_t *shape,
                           const float *data, const char *src, char *err, size_t errlen);
/* Folds BN into the convolutions again from the current file tensors. */
void vkdp_effnet_refold(vkdp_effnet *net);

/* Plain-C reference forward: images [B, H, W, 3] in [0,255] -> pooled [B, 1280] (global average
 * of the top activation). Slow, exact float32 (double accumulation where noted). */
void vkdp_effnet_forward_ref(const vkdp_effnet *net, const float *images, int B, int H, int W,
                             float *pooled);

#endif
