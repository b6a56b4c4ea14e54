/* EfficientNetB0's fixed structure, independent of any weights: the MBConv block table and the
 * list of every weight tensor the Keras file must hold (layer, weight, shape, Keras initialiser),
 * in Keras' model order. Used by the loader, the checkpoint writer and tests. */
#ifndef VKDP_EFFNET_ARCH_H
#define VKDP_EFFNET_ARCH_H
#include "vkdp/model/effnet.h"

#define VKDP_EFFNET_STEM_CH 32
#define VKDP_EFFNET_HEAD_IN 320
/* 312 tensors in EfficientNetB0(include_top=False) */
#define VKDP_EFFNET_MAX_TENSORS 320

typedef enum {
    VKDP_INIT_ZEROS,
    VKDP_INIT_ONES,
    VKDP_INIT_CONV_KERNEL, /* VarianceScaling(2.0, "fan_out", "truncated_normal") */
} vkdp_init_kind;

typedef struct {
    char layer[32];   /* "block2a_expand_bn" */
    char weight[24];  /* "gamma:0" */
    int rank;
    int64_t shape[4];
    vkdp_init_kind init;
    int is_int;       /* stored as an integer in Keras' file (normalization/count:0) */
} vkdp_effnet_tensor_spec;

/* Fills net->nblocks and the structural fields of net->blocks (names, kernel, stride, channels,
 * flags); leaves every pointer NULL. */
void vkdp_effnet_init_arch(vkdp_effnet *net);

/* Writes the specs of every tensor (at most max) in Keras' model order and returns their count. */
int vkdp_effnet_tensor_specs(vkdp_effnet_tensor_spec *specs, int max);

/* Keras' fan_out of a conv kernel [kh, kw, in, out] (depthwise: [kh, kw, C, 1]) */
int64_t vkdp_effnet_fan_out(const vkdp_effnet_tensor_spec *s);

#endif
