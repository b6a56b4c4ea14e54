/* A checkpoint's fine-tuned /backbone tensors into the session's network and backbone, so that
 * evaluate, predict and a resumed run use the trained weights instead of the weights file's. */
#include "vkdp/train/head_ckpt.h"

#include "vkdp/core/common.h"

void vkdp_session_apply_backbone(vkdp_session *s, const vkdp_ckpt_state *ck, const char *path)
{
    if (!ck->backbone_trainable)
        return;
    char err[1024];
    for (int i = 0; i < ck->nbackbone; i++) {
        const vkdp_named_tensor *t = &ck->backbone[i];
        if (vkdp_effnet_set_tensor(&s->net, t->name, t->rank, t->shape, t->data, path, err, sizeof err) != 0)
            VKDP_FATAL("%s", err);
    }
    vkdp_effnet_refold(&s->net);
    /* the device holds the folded weights: upload them again, same shape and micro-batch */
    uint64_t micro = vkdp_backbone_micro_batch(s->bb);
    vkdp_backbone_set_profile(s->bb, NULL);
    vkdp_backbone_destroy(s->bb);
    s->bb = vkdp_backbone_create(s->dev, &s->net, s->cfg.image_size, s->cfg.image_size, (int)micro);
    if (s->prof)
        vkdp_backbone_set_profile(s->bb, s->prof);
}
