#include "vkdp/train/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"

void vkdp_session_cfg_default(vkdp_session_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->data_dir = "data/flower_photos";
    c->weights = "weights/efficientnetb0_notop.h5";
    c->seed = 123;
    c->validation_split = 0.2;
    c->image_size = 224;
    c->batch = 32;
    c->device = NULL;
}

int vkdp_check_device_flag(const char *cmd, const char *s)
{
    int list[VKDP_MAX_DEVICE_LIST];
    char err[256];
    if (vkdp_parse_device_list(s, list, err, sizeof err) >= 0)
        return 0;
    fprintf(stderr, "trainer %s: --device: %s\n", cmd, err);
    return -1;
}

int vkdp_split_csv(const char *csv, char ***out)
{
    char *copy = vkdp_xstrdup(csv), *save = NULL;
    char **v = NULL;
    int n = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        v = vkdp_xrealloc(v, (size_t)(n + 1) * sizeof *v);
        v[n++] = vkdp_xstrdup(t);
    }
    free(copy);
    *out = v;
    return n;
}

void vkdp_free_strings(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void vkdp_session_open(vkdp_session *s, const vkdp_session_cfg *cfg, int summary)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    vkdp_dist_info_get(&s->dist);

    vkdp_device_opts o;
    vkdp_device_opts_default(&o);
    if (cfg->device) {
        char err[256];
        o.ndevices = vkdp_parse_device_list(cfg->device, o.devices, err, sizeof err);
        if (o.ndevices < 0)
            VKDP_FATAL("--device: %s", err);
    }
    o.local_rank = s->dist.local_rank;
    o.local_size = s->dist.local_size;
    o.profile = cfg->profile;
    s->dev = vkdp_device_create(&o);
    if (cfg->profile)
        s->prof = vkdp_profile_create();

    char err[4096];
    if (cfg->data_dir) {
        char **names = NULL;
        int nnames = cfg->class_names ? vkdp_split_csv(cfg->class_names, &names) : 0;
        if (vkdp_index_build(cfg->data_dir, (const char *const *)names, nnames, &s->idx, err, sizeof err) != 0)
            VKDP_FATAL("%s", err);
        vkdp_free_strings(names, nnames);
        vkdp_split_make(&s->idx, cfg->seed, cfg->validation_split, &s->split);
        s->have_data = 1;
        if (summary && s->dist.rank == 0)
            vkdp_dataset_print_summary(&s->idx, cfg->validation_split > 0 ? &s->split : NULL, stdout);
        vkdp_featcache_init(&s->fc, s->idx.n, VKDP_EFFNET_FEATURES);
    }

    if (vkdp_effnet_load(&s->net, cfg->weights, cfg->allow_missing_weights, cfg->seed, err, sizeof err) != 0)
        VKDP_FATAL("%s", err);
    int micro = cfg->batch / s->dist.size + 1;
    s->bb = vkdp_backbone_create(s->dev, &s->net, cfg->image_size, cfg->image_size, micro < 1 ? 1 : micro);
    if (s->prof)
        vkdp_backbone_set_profile(s->bb, s->prof);
}

void vkdp_session_close(vkdp_session *s)
{
    if (s->prof) {
        if (s->dist.rank == 0) {
            printf("\nper-op device time (rank 0, timestamp queries):\n");
            vkdp_profile_print(s->prof, stdout);
        }
        vkdp_backbone_set_profile(s->bb, NULL);
        vkdp_profile_destroy(s->prof);
    }
    vkdp_backbone_destroy(s->bb);
    vkdp_effnet_free(&s->net);
    if (s->have_data) {
        vkdp_featcache_free(&s->fc);
        vkdp_split_free(&s->split);
        vkdp_index_free(&s->idx);
    }
    vkdp_device_destroy(s->dev);
    memset(s, 0, sizeof *s);
}
