/* Checkpoint <-> fine-tuning's trainable part; see include/vkdp/train/ft_ckpt.h. */
#include "vkdp/train/ft_ckpt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"

static void fill(vkdp_named_tensor *nt, const vkdp_finetune_tensor *t)
{
    memset(nt, 0, sizeof *nt);
    snprintf(nt->name, sizeof nt->name, "%s", t->path);
    nt->rank = t->rank;
    for (int k = 0; k < t->rank; k++)
        nt->shape[k] = t->shape[k];
    nt->data = vkdp_xmalloc((size_t)t->numel * sizeof(float));
}

void vkdp_ckpt_state_add_ftpart(vkdp_ckpt_state *st, vkdp_ftpart *p)
{
    for (int i = 0; i < st->nbackbone; i++)
        free(st->backbone[i].data);
    free(st->backbone);
    const int n = vkdp_ftpart_count(p), s0 = st->nslots;
    st->backbone = vkdp_xcalloc((size_t)n, sizeof *st->backbone);
    st->adam_m = vkdp_xrealloc(st->adam_m, (size_t)(s0 + n) * sizeof *st->adam_m);
    st->adam_v = vkdp_xrealloc(st->adam_v, (size_t)(s0 + n) * sizeof *st->adam_v);
    for (int i = 0; i < n; i++) {
        const vkdp_finetune_tensor *t = vkdp_ftpart_tensor(p, i);
        fill(&st->backbone[i], t);
        fill(&st->adam_m[s0 + i], t);
        fill(&st->adam_v[s0 + i], t);
        vkdp_ftpart_get(p, VKDP_FT_WEIGHT, i, st->backbone[i].data);
        vkdp_ftpart_get(p, VKDP_FT_ADAM_M, i, st->adam_m[s0 + i].data);
        vkdp_ftpart_get(p, VKDP_FT_ADAM_V, i, st->adam_v[s0 + i].data);
    }
    st->nbackbone = n;
    st->nslots = s0 + n;
    st->backbone_trainable = 1;
}

/* The tensor named t->path in v[0..n), with t's shape and finite values. */
static const float *take(const vkdp_named_tensor *v, int n, const vkdp_finetune_tensor *t, const char *path,
                         const char *where)
{
    const vkdp_named_tensor *nt = NULL;
    for (int i = 0; i < n && !nt; i++)
        if (!strcmp(v[i].name, t->path))
            nt = &v[i];
    if (!nt)
        VKDP_FATAL("%s: checkpoint has no %s%s", path, where, t->path);
    int same = nt->rank == t->rank;
    for (int k = 0; same && k < t->rank; k++)
        same = nt->shape[k] == t->shape[k];
    if (!same) {
        vkdp_named_tensor want = {.rank = t->rank};
        memcpy(want.shape, t->shape, sizeof want.shape);
        char got[64], need[64];
        vkdp_tensor_shape_str(nt, got, sizeof got);
        vkdp_tensor_shape_str(&want, need, sizeof need);
        VKDP_FATAL("%s: %s%s has shape %s, fine-tuning needs %s", path, where, t->path, got, need);
    }
    for (int64_t i = 0; i < t->numel; i++)
        if (!isfinite(nt->data[i]))
            VKDP_FATAL("%s: %s%s[%lld] = %g: not a finite value", path, where, t->path, (long long)i,
                       (double)nt->data[i]);
    return nt->data;
}

void vkdp_ftpart_from_ckpt(vkdp_ftpart *p, const vkdp_ckpt_state *ck, const char *path)
{
    const int n = vkdp_ftpart_count(p);
    if (!ck->backbone_trainable)
        VKDP_FATAL("%s: checkpoint has no /backbone tensors to fine-tune from", path);
    for (int i = 0; i < ck->nbackbone; i++) {
        int known = 0;
        for (int j = 0; j < n && !known; j++)
            known = !strcmp(ck->backbone[i].name, vkdp_ftpart_tensor(p, j)->path);
        if (!known)
            VKDP_FATAL("%s: /backbone/%s is not trainable in this run", path, ck->backbone[i].name);
    }
    for (int i = 0; i < n; i++) {
        const vkdp_finetune_tensor *t = vkdp_ftpart_tensor(p, i);
        vkdp_ftpart_set(p, VKDP_FT_WEIGHT, i, take(ck->backbone, ck->nbackbone, t, path, "/backbone/"));
        vkdp_ftpart_set(p, VKDP_FT_ADAM_M, i, take(ck->adam_m, ck->nslots, t, path, "/optimizer/m/"));
        vkdp_ftpart_set(p, VKDP_FT_ADAM_V, i, take(ck->adam_v, ck->nslots, t, path, "/optimizer/v/"));
    }
}
