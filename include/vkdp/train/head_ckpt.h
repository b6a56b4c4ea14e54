/* Checkpoint <-> head: a checkpoint's weights, Adam moments and iteration count into a head, and
 * a head's tensors into a checkpoint state (optimizer slots under their weights' names). Used by
 * training (resume, checkpoints), evaluate and predict. */
#ifndef VKDP_HEAD_CKPT_H
#define VKDP_HEAD_CKPT_H

#include "vkdp/ckpt/ckpt.h"
#include "vkdp/model/head.h"
#include "vkdp/train/session.h"

/* Loads the head's weights, Adam moments and iteration count from a checkpoint (fatal error
 * naming the file and tensor when one is missing or has another size). */
void vkdp_head_from_ckpt(vkdp_head *h, const vkdp_ckpt_state *ck, const char *path);
/* A head configured as the checkpoint's run was, with its tensors loaded. */
vkdp_head *vkdp_head_open_ckpt(vkdp_device *dev, const vkdp_ckpt_state *ck, const char *path);
/* The same, after checking that the session's backbone weights are the checkpoint's (SHA-256). */
vkdp_head *vkdp_session_head_for_ckpt(vkdp_session *s, const vkdp_ckpt_state *ck, const char *path);
/* When ck holds trained backbone tensors (backbone_trainable), puts them into s->net (fatal error
 * naming path and the tensor on a shape mismatch, an unknown name or a non-finite value) and
 * rebuilds s->bb from them. */
void vkdp_session_apply_backbone(vkdp_session *s, const vkdp_ckpt_state *ck, const char *path);
/* Replaces st's weights, Adam moments and iteration count with copies of the head's. */
void vkdp_ckpt_state_from_head(vkdp_ckpt_state *st, vkdp_head *h);

#endif
