/* What the two halves of fine-tuning's trainable part share (ft_part.c: its device tensors, tiles,
 * buckets and Adam state; ft_pass.c: the forward and the step): the struct and its constants.
 * Internal to trainer/model/. */
#ifndef VKDP_FT_PART_IMPL_H
#define VKDP_FT_PART_IMPL_H
#include "vkdp/dist/bucket.h"
#include "vkdp/model/block_dev.h"
#include "vkdp/model/ft_part.h"

/* DDP's bucket sizes: a small first bucket so the first reduction starts early */
#define FT_FIRST_BUCKET_BYTES (1u << 20)
#define FT_BUCKET_BYTES (25u << 20)
#define FT_MAX_TENSORS 128
#define FT_TOP VKDP_EFFNET_BLOCKS
/* drop connect's Philox stream: counter word 0 (docs/fine-tuning.md section 6) */
#define FT_DROP_STREAM 0x44430000u
/* drop-connect scales of one block and chunk start 64 floats apart: any storage-buffer offset
 * alignment up to 256 */
#define FT_ALIGN_FLOATS 64
/* One tile's boundary activations (and their gradients) and top_conv's tensors, for at most
 * p->chunk samples: a tile is the unit every recorded op sees. */
typedef struct {
    vkdp_buf *act[VKDP_EFFNET_BLOCKS + 1], *dact[VKDP_EFFNET_BLOCKS + 1]; /* [chunk, H, W, C] at each boundary */
    vkdp_buf *z, *a, *pooled, *dp;
} ft_tile;

/* One trainable tensor's device state. */
typedef struct {
    vkdp_buf *w;        /* the master weights (top_conv: owned; a block's: its vkdp_block_dev's) */
    vkdp_buf *m, *v;    /* Adam moments */
    vkdp_buf *acc, *ovf;
    int block;          /* index among the trainable blocks; -1: top_conv */
    vkdp_block_grad_id gid; /* which of its block's tensors */
} ft_tensor;

struct vkdp_ftpart {
    vkdp_device *dev;
    vkdp_cmd *cmd;
    vkdp_finetune_tensor t[FT_MAX_TENSORS];
    ft_tensor ft[FT_MAX_TENSORS];
    int nt, cap;
    int64_t params;
    double beta1, beta2, epsilon;
    int first, nb;                    /* first trainable block, trainable block count */
    uint64_t seed;
    double drop_connect_rate; /* Keras' drop_connect_rate: block b drops at rate * b / 16 */
    const vkdp_effnet *net;           /* the architecture (blocks' flags), not the weights */
    int chunk;                        /* samples per tile */
    int chunk_forced;                 /* 1: VKDP_TEST_FT_CHUNK set chunk, not the binding limit */
    int ntiles;                       /* tiles of cap samples */
    ft_tile *tile;
    vkdp_buf *drop;                   /* [chunks][nb][pad64(chunk)] drop-connect scales */
    float *drop_host;
    vkdp_block_dev bd[VKDP_EFFNET_BLOCKS];
    int H[VKDP_EFFNET_BLOCKS + 1], C[VKDP_EFFNET_BLOCKS + 1];
    vkdp_block_dev_tape *tape;        /* [chunks][nb], of the last forward's ntape chunks */
    int ntape;
    uint32_t P, K, N;                 /* top_conv: positions per image, input and output channels */
    vkdp_buf *top_w, *scale, *shift, *zero; /* top_bn frozen, and the bias-free conv's zero bias */
    vkdp_buf *partial;                /* a tile's per-sample weight-gradient partials: top_conv's, then each block's */
    int last_n;                       /* samples of the last forward */
    vkdp_buckets *bk;                 /* the trainable tensors, then one overflow counter */
    double wait_s;                    /* seconds waited for the buckets' allreduce, all steps */
    vkdp_profile *prof;               /* --profile's table, or NULL */
    uint32_t *ovf_host;
};

/* Floats from one (chunk, block)'s drop-connect scales in p->drop to the next's. */
size_t ftp_drop_stride(const vkdp_ftpart *p);
/* Frees the last forward's tapes. */
void ftp_tapes_free(vkdp_ftpart *p);

#endif
