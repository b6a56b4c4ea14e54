/* Which part of EfficientNetB0 a fine-tuning run trains, from --fine-tune-from LAYER or
 * --trainable-top N (Keras' model.layers[-N:]), and what that costs: trainable parameters and the
 * saved activations per image (docs/fine-tuning.md, sections 1 and 2). Pure arithmetic on the
 * architecture; no weights are read. */
#ifndef VKDP_FINETUNE_PLAN_H
#define VKDP_FINETUNE_PLAN_H
#include <stddef.h>
#include <stdint.h>

/* Keras' model.layers of EfficientNetB0(include_top=False): input_1 .. top_activation, the order
 * of the weights file's layer_names attribute. */
#define VKDP_EFFNET_LAYERS 237
/* The tutorial's head adds GlobalAveragePooling2D, BatchNormalization, Dropout and Dense. */
#define VKDP_HEAD_LAYERS 4
#define VKDP_LAYER_NAME_MAX 40

/* Writes the backbone's layer names in Keras' order (names must hold VKDP_EFFNET_LAYERS). */
void vkdp_effnet_layer_names(char (*names)[VKDP_LAYER_NAME_MAX]);

typedef struct {
    int first_block;         /* first trainable MBConv block (0..15); 16: top_conv only */
    char from[16];           /* its name: "block6a" .. or "top_conv" */
    int trainable_top;       /* the equivalent --trainable-top N */
    int64_t params;          /* trainable backbone parameters (kernels, SE biases) */
    int64_t tape_floats;     /* saved activations per image at the plan's image size */
} vkdp_finetune_plan;

/* LAYER is a block name ("block6a"), "top_conv", or any backbone layer name that starts one of
 * them ("block6a_expand_conv"). A layer inside a block, in the stem or after top_conv, or an
 * unknown name: -1 and a message naming the valid choices (the nearest block boundaries for a
 * layer inside a block). */
int vkdp_finetune_plan_from(const char *layer, int image_size, vkdp_finetune_plan *p, char *err,
                            size_t errlen);
/* The last n layers of the tutorial's model (the head's 4 included) trainable, as Keras'
 * model.layers[-n:]: n must end the frozen part at a block boundary, else -1 and a message
 * naming the nearest boundaries' n. */
int vkdp_finetune_plan_top(long n, int image_size, vkdp_finetune_plan *p, char *err,
                           size_t errlen);

/* One trainable backbone tensor of a plan in the flat parameter / gradient / Adam blocks. */
typedef struct {
    char path[96];           /* the weights file's dataset path, e.g.
                                "block6a_expand_conv/block6a_expand_conv/kernel:0" */
    int rank;
    int64_t shape[4];        /* Keras' layout: [1,1,in,out], [k,k,C,1], [n] */
    int64_t offset, numel;   /* in floats, from the block's start */
} vkdp_finetune_tensor;

/* The plan's trainable tensors (kernels and SE biases, never BatchNormalization) in reverse Keras
 * order (top_conv's kernel first, the first trainable block's first kernel last): the order the
 * backward completes them in, so the gradient block fills from its start (docs/fine-tuning.md,
 * section 4). Writes at most max entries and returns the count; offsets are contiguous and the
 * numels sum to p->params. */
int vkdp_finetune_tensors(const vkdp_finetune_plan *p, vkdp_finetune_tensor *out, int max);

#endif
