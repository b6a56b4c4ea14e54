/* The session every subcommand opens: MPI layout, device, indexed data, weights, backbone. */
#include "vkdp/train/session.h"

#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/core/strlist.h"
#include "vkdp/ops/tune.h"

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
    vkdp_jpeg_set_max_pixels(cfg->max_pixels);
    if (cfg->data_dir) {
        char **names = NULL;
        int nnames = cfg->class_names && cfg->nclass_list <= 0 ? vkdp_split_csv(cfg->class_names, &names) : 0;
        const char *const *classes = cfg->nclass_list > 0 ? cfg->class_list : (const char *const *)names;
        int nclasses = cfg->nclass_list > 0 ? cfg->nclass_list : nnames;
        if (vkdp_index_build(cfg->data_dir, classes, nclasses, &s->idx, err, sizeof err) != 0)
            VKDP_FATAL("%s", err);
        vkdp_free_strings(names, nnames);
        vkdp_split_make(&s->idx, cfg->seed, cfg->validation_split, &s->split);
        /* Node-local copies of the data that differ would shard inconsistent lists (and fail
         * later, far from the cause): compare before any step. */
        char digest[65];
        vkdp_index_digest(&s->idx, &s->split, digest);
        vkdp_check_same(digest, "the data index (files, sizes, labels and split of --data)",
                        "every rank must see an identical data folder");
        s->have_data = 1;
        if (summary && s->dist.rank == 0)
            vkdp_dataset_print_summary(&s->idx, cfg->validation_split > 0 ? &s->split : NULL, stdout);
        s->fc = vkdp_featcache_create(s->idx.n, VKDP_EFFNET_FEATURES);
    }

    int wflags = (cfg->allow_missing_weights ? VKDP_EFFNET_ALLOW_MISSING : 0) |
                 (cfg->weights_with_head ? VKDP_EFFNET_TUTORIAL_HEAD : 0);
    if (vkdp_effnet_load(&s->net, cfg->weights, wflags, cfg->seed, err, sizeof err) != 0)
        VKDP_FATAL("%s", err);
    int micro = cfg->batch / s->dist.size + 1;
    /* Features run ahead of the head in calls of feature_batch images: a GPU idles on one step's
     * share. The backbone's buffers are sized for the larger of the two. */
    int fb = cfg->feature_batch > 0 ? cfg->feature_batch : (int)vkdp_tune_get(s->dev)->feature_batch;
    s->feature_batch = fb > 0 ? fb : vkdp_session_rank_share(s, cfg->batch);
    if (s->feature_batch > micro)
        micro = s->feature_batch;
    s->bb = vkdp_backbone_create(s->dev, &s->net, cfg->image_size, cfg->image_size, micro < 1 ? 1 : micro);
    if (fb > 0)
        vkdp_log("features: up to %d images per backbone call, run ahead of the head's steps\n",
                 s->feature_batch);
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
        vkdp_featcache_destroy(s->fc);
        vkdp_split_free(&s->split);
        vkdp_index_free(&s->idx);
    }
    vkdp_device_destroy(s->dev);
    memset(s, 0, sizeof *s);
}

int vkdp_session_rank_share(const vkdp_session *s, int batch) { return (batch + s->dist.size - 1) / s->dist.size; }
