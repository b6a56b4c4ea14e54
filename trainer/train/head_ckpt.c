/* Checkpoint <-> head; see include/vkdp/train/head_ckpt.h. */
#include "vkdp/train/head_ckpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"

static void free_tensors(vkdp_named_tensor *v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i].data);
    free(v);
}

/* "Adam/m/pred/kernel:0" -> "pred/pred/kernel:0": checkpoints keep each moment under the name
 * of the weight it belongs to. */
static void slot_weight_name(const char *slot, char *out, size_t len)
{
    if (strncmp(slot, "Adam/", 5) != 0 || strlen(slot) < 8 || slot[6] != '/' || !strchr(slot + 7, '/'))
        VKDP_FATAL("unexpected optimizer slot name %s", slot);
    const char *lw = slot + 7; /* after "Adam/m/" */
    const char *slash = strchr(lw, '/');
    snprintf(out, len, "%.*s/%s", (int)(slash - lw), lw, lw);
}

void vkdp_ckpt_state_from_head(vkdp_ckpt_state *st, vkdp_head *h)
{
    free_tensors(st->weights, st->nweights);
    free_tensors(st->adam_m, st->nslots);
    free_tensors(st->adam_v, st->nslots);
    int n = vkdp_head_tensor_count(h);
    st->weights = vkdp_xcalloc((size_t)n, sizeof *st->weights);
    st->adam_m = vkdp_xcalloc((size_t)n, sizeof *st->adam_m);
    st->adam_v = vkdp_xcalloc((size_t)n, sizeof *st->adam_v);
    st->nweights = 0;
    int nm = 0, nv = 0;
    for (int i = 0; i < n; i++) {
        vkdp_head_tensor d;
        vkdp_head_tensor_desc(h, i, &d);
        vkdp_named_tensor *nt;
        if (d.kind == VKDP_HEAD_WEIGHT) {
            nt = &st->weights[st->nweights++];
            snprintf(nt->name, sizeof nt->name, "%s", d.name);
        } else {
            nt = d.kind == VKDP_HEAD_ADAM_M ? &st->adam_m[nm++] : &st->adam_v[nv++];
            slot_weight_name(d.name, nt->name, sizeof nt->name);
        }
        nt->rank = d.ndims;
        for (int k = 0; k < d.ndims; k++)
            nt->shape[k] = d.dims[k];
        nt->data = vkdp_xmalloc((size_t)d.size * sizeof(float));
        vkdp_head_tensor_get(h, i, nt->data);
    }
    if (nm != nv)
        VKDP_FATAL("head has %d Adam m slots but %d v slots", nm, nv);
    st->nslots = nm;
    st->iterations = vkdp_head_iterations(h);
}

static const vkdp_named_tensor *find_slot(const vkdp_named_tensor *v, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i].name, name))
            return &v[i];
    return NULL;
}

void vkdp_head_from_ckpt(vkdp_head *h, const vkdp_ckpt_state *ck, const char *path)
{
    int n = vkdp_head_tensor_count(h);
    for (int i = 0; i < n; i++) {
        vkdp_head_tensor d;
        vkdp_head_tensor_desc(h, i, &d);
        const vkdp_named_tensor *nt;
        char wname[128];
        if (d.kind == VKDP_HEAD_WEIGHT) {
            nt = vkdp_ckpt_find_weight(ck, d.name);
        } else if (ck->from_export) {
            continue; /* an export has no optimizer state; predict and evaluate take no step */
        } else {
            slot_weight_name(d.name, wname, sizeof wname);
            nt = find_slot(d.kind == VKDP_HEAD_ADAM_M ? ck->adam_m : ck->adam_v, ck->nslots, wname);
        }
        if (!nt)
            VKDP_FATAL("%s: checkpoint has no tensor %s", path, d.name);
        if (vkdp_tensor_numel(nt) != d.size)
            VKDP_FATAL("%s: tensor %s has %lld values, the head needs %lld", path, d.name,
                       (long long)vkdp_tensor_numel(nt), (long long)d.size);
        vkdp_head_tensor_set(h, i, nt->data);
    }
    vkdp_head_set_iterations(h, ck->iterations);
}

vkdp_head *vkdp_head_open_ckpt(vkdp_device *dev, const vkdp_ckpt_state *ck, const char *path)
{
    vkdp_head_cfg hc;
    vkdp_head_cfg_default(&hc);
    hc.feat_dim = VKDP_EFFNET_FEATURES;
    hc.nclasses = ck->nclasses;
    hc.lr = ck->lr;
    hc.dropout = ck->dropout;
    hc.seed = ck->seed;
    vkdp_head *h = vkdp_head_create(dev, &hc);
    vkdp_head_from_ckpt(h, ck, path);
    return h;
}

vkdp_head *vkdp_session_head_for_ckpt(vkdp_session *s, const vkdp_ckpt_state *ck, const char *path)
{
    if (strcmp(s->net.sha256, ck->weights_sha256) != 0)
        VKDP_FATAL("%s has SHA-256 %s, but checkpoint %s was trained on weights with SHA-256 %s", s->cfg.weights,
                   s->net.sha256, path, ck->weights_sha256);
    vkdp_session_apply_backbone(s, ck, path);
    return vkdp_head_open_ckpt(s->dev, ck, path);
}
