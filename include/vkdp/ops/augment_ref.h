/* Plain-C reference of the Keras EfficientNet example's training augmentation, applied to one
 * resized float image [H, W, C] in [0, 255] before the network's own normalization:
 *   RandomRotation(0.15) -> RandomTranslation(0.1, 0.1) -> RandomFlip -> RandomContrast(0.1),
 * with Keras' default fill_mode "reflect" and interpolation "bilinear" as TF's
 * ImageProjectiveTransformV3 kernel computes them, and tf.image.adjust_contrast then the layer's
 * clip to [0, 255]. Each image's random parameters depend only on (seed, epoch, global sample
 * index), from the counter-based Philox-4x32-10 the head's dropout uses (vkdp/ops/head_ref.h), so
 * they are the same however the batch is split over ranks. The device shader of phase 2 is
 * checked against this. trainer/ops/augment_ref.c lists where Keras' semantics were ambiguous and
 * what was chosen. */
#ifndef VKDP_AUGMENT_REF_H
#define VKDP_AUGMENT_REF_H
#include <stddef.h>
#include <stdint.h>

typedef enum {
    VKDP_FLIP_NONE = 0,
    VKDP_FLIP_HORIZONTAL = 1,  /* RandomFlip("horizontal"): left-right */
    VKDP_FLIP_VERTICAL = 2,    /* RandomFlip("vertical"): up-down */
    VKDP_FLIP_BOTH = 3,        /* RandomFlip() default "horizontal_and_vertical" */
} vkdp_flip_mode;

/* The layers' factors, symmetric as the example passes them (a scalar f means [-f, f]). */
typedef struct {
    double rotation;                     /* RandomRotation factor, a fraction of 2 pi */
    double height_factor, width_factor;  /* RandomTranslation, fractions of H and W */
    vkdp_flip_mode flip;
    double contrast;                     /* RandomContrast: factor drawn in [1 - c, 1 + c] */
} vkdp_augment_cfg;

/* 0.15, 0.1, 0.1, horizontal, 0.1: the example's layers with the flip mode issue 12 names. */
vkdp_augment_cfg vkdp_augment_default_cfg(void);
/* 0, or -1 with a message naming the field when a factor is out of the range Keras accepts
 * (rotation and translation in [0, 1], contrast in [0, 1]) or not finite. */
int vkdp_augment_cfg_check(const vkdp_augment_cfg *cfg, char *err, size_t errlen);

/* One image's parameters. */
typedef struct {
    float angle;         /* radians; Keras' rotation matrix convention */
    float dy, dx;        /* translation in pixels: out(x, y) = in(x - dx, y - dy) */
    int flip_h, flip_v;
    float contrast;      /* factor */
} vkdp_augment_params;

/* Philox counter word 0 of the augmentation streams: the head's dropout uses its feature index
 * j < 2^24 there, so the streams never meet for the same (seed, epoch, gpos). */
#define VKDP_AUGMENT_STREAM 0x41554700u  /* "AUG" */

/* Parameters of the sample at global position gpos of the epoch (the key the head's dropout
 * uses), for an H x W image. Stream VKDP_AUGMENT_STREAM + 0 gives the rotation, height and
 * width translation and contrast draws (outputs 0..3), stream + 1 the horizontal and vertical
 * flips (outputs 0, 1); a draw is u = (r >> 8) / 2^24, a value min + u (max - min) in float as
 * TF's random_uniform, a flip u >= 0.5. */
void vkdp_augment_draw(const vkdp_augment_cfg *cfg, uint64_t seed, uint32_t epoch, uint64_t gpos,
                       int H, int W, vkdp_augment_params *p);

/* The whole chain on one image: in, out [H, W, C]; scratch [H * W * C]. out may not alias in. */
void vkdp_augment_image(const vkdp_augment_params *p, int H, int W, int C, const float *in,
                        float *out, float *scratch);

/* ---- the pieces, one per Keras layer ---- */
/* Keras' get_rotation_matrix / get_translation_matrix: t = [a0 a1 a2 b0 b1 b2 c0 c1] maps output
 * (x, y) to input ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k), k = c0 x + c1 y + 1. */
void vkdp_augment_rotation_matrix(float angle, int H, int W, float t[8]);
void vkdp_augment_translation_matrix(float dy, float dx, float t[8]);
/* TF's "reflect" of a continuous coordinate into [0, len - 1]: (d c b a | a b c d | d c b a). */
float vkdp_augment_reflect(float coord, int len);
/* ImageProjectiveTransformV3, fill_mode reflect, bilinear, fill_value 0. out may not alias in. */
void vkdp_augment_transform(const float t[8], int H, int W, int C, const float *in, float *out);
/* Left-right then up-down, as RandomFlip. out may not alias in. */
void vkdp_augment_flip(int flip_h, int flip_v, int H, int W, int C, const float *in, float *out);
/* tf.image.adjust_contrast (per-channel mean over H x W, mean + f (x - mean)), then clip to
 * [0, 255]. out may alias in. */
void vkdp_augment_contrast(float factor, int H, int W, int C, const float *in, float *out);

#endif
