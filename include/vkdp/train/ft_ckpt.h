/* Checkpoint <-> fine-tuning's trainable part: its tensors under /backbone (the weights file's
 * dataset paths) and their Adam moments as optimizer slots under the same names. */
#ifndef VKDP_FT_CKPT_H
#define VKDP_FT_CKPT_H

#include "vkdp/ckpt/ckpt.h"
#include "vkdp/model/ft_part.h"

/* Replaces st's backbone tensors with p's and appends their Adam slots after the head's (call
 * after vkdp_ckpt_state_from_head); sets backbone_trainable. */
void vkdp_ckpt_state_add_ftpart(vkdp_ckpt_state *st, vkdp_ftpart *p);
/* Loads p's tensors and moments from a checkpoint: each must be there with its shape and finite
 * values, and /backbone must hold nothing else; else a fatal error naming path and the tensor. */
void vkdp_ftpart_from_ckpt(vkdp_ftpart *p, const vkdp_ckpt_state *ck, const char *path);

#endif
