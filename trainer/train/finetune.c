/* The fine-tuning flags checked together, the plan's log line, and the settings a checkpoint
 * records so that a resume keeps them (phase 2, docs/fine-tuning.md). */
#include <stdio.h>
#include <string.h>

#include "vkdp/core/errmsg.h"
#include "vkdp/train/train.h"

int vkdp_finetune_check_opts(vkdp_train_opts *t, char *err, size_t errlen)
{
    if (t->fine_tune_from && t->trainable_top)
        return vkdp_seterr(err, errlen,
                           "--fine-tune-from and --trainable-top both choose the trainable layers: "
                           "give one");
    if (t->fine_tune_epochs == 0) {
        const char *alone = t->fine_tune_from ? "--fine-tune-from" : t->trainable_top ? "--trainable-top" : NULL;
        if (alone)
            return vkdp_seterr(err, errlen, "%s has no effect without --fine-tune-epochs N (N > 0)", alone);
        return 0;
    }
    if (!t->fine_tune_from && !t->trainable_top)
        return vkdp_seterr(err, errlen,
                           "--fine-tune-epochs %d needs the layers to train: --fine-tune-from LAYER "
                           "(e.g. block6a, top_conv) or --trainable-top N (e.g. 20, as Keras' "
                           "model.layers[-20:])",
                           t->fine_tune_epochs);
    return t->fine_tune_from
               ? vkdp_finetune_plan_from(t->fine_tune_from, t->sc.image_size, &t->plan, err, errlen)
               : vkdp_finetune_plan_top(t->trainable_top, t->sc.image_size, &t->plan, err, errlen);
}

/* n with a comma every three digits */
static void grouped(long long n, char *buf, size_t len)
{
    char d[32];
    int k = snprintf(d, sizeof d, "%lld", n), o = 0;
    for (int i = 0; i < k && (size_t)o + 2 < len; i++) {
        if (i > 0 && (k - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = d[i];
    }
    buf[o] = 0;
}

void vkdp_finetune_describe(const vkdp_finetune_plan *p, char *buf, size_t len)
{
    char params[32];
    grouped((long long)p->params, params, sizeof params);
    double bytes = (double)p->tape_floats * 4;
    if (bytes >= 1024.0 * 1024.0)
        snprintf(buf, len, "fine-tuning from %s: %s trainable parameters, %.2f MiB of saved activations per image",
                 p->from, params, bytes / (1024.0 * 1024.0));
    else
        snprintf(buf, len, "fine-tuning from %s: %s trainable parameters, %.0f KiB of saved activations per image",
                 p->from, params, bytes / 1024.0);
}

void vkdp_finetune_state_config(vkdp_ckpt_state *st, const vkdp_train_opts *t)
{
    st->augment = t->augment;
    st->fine_tune_epochs = t->fine_tune_epochs;
    st->fine_tune_lr = t->fine_tune_epochs > 0 ? t->fine_tune_lr : 0;
    st->drop_connect_rate = t->fine_tune_epochs > 0 || t->drop_connect_all ? t->drop_connect_rate
                                                                           : VKDP_CKPT_DROP_CONNECT_DEFAULT;
    st->drop_connect_all = t->drop_connect_all;
    snprintf(st->fine_tune_from, sizeof st->fine_tune_from, "%s", t->fine_tune_epochs > 0 ? t->plan.from : "");
}

/* "--fine-tune-epochs 2 --fine-tune-from block6a --fine-tune-lr 1e-05 --drop-connect-rate 0.2" or
 * "no fine-tuning" */
static void ft_str(const vkdp_ckpt_state *s, char *buf, size_t len)
{
    if (s->fine_tune_epochs == 0)
        snprintf(buf, len, "no fine-tuning");
    else
        snprintf(buf, len, "--fine-tune-epochs %d --fine-tune-from %s --fine-tune-lr %g --drop-connect-rate %g",
                 s->fine_tune_epochs, s->fine_tune_from, s->fine_tune_lr, s->drop_connect_rate);
}

int vkdp_finetune_check_resume(const vkdp_ckpt_state *ck, const vkdp_ckpt_state *st, char *err, size_t errlen)
{
    if (ck->augment != st->augment)
        return vkdp_seterr(err, errlen, "it was trained %s --augment, this run is %s it", ck->augment ? "with" : "without",
                           st->augment ? "with" : "without");
    if (ck->drop_connect_all != st->drop_connect_all)
        return vkdp_seterr(err, errlen, "it was trained with --drop-connect %s (rate %g), this run has --drop-connect %s",
                           ck->drop_connect_all ? "all" : "trainable", ck->drop_connect_rate,
                           st->drop_connect_all ? "all" : "trainable");
    if (ck->drop_connect_all && ck->drop_connect_rate != st->drop_connect_rate)
        return vkdp_seterr(err, errlen, "it was trained with --drop-connect all --drop-connect-rate %g, this run has %g",
                           ck->drop_connect_rate, st->drop_connect_rate);
    if (ck->fine_tune_epochs != st->fine_tune_epochs || strcmp(ck->fine_tune_from, st->fine_tune_from) ||
        ck->fine_tune_lr != st->fine_tune_lr || ck->drop_connect_rate != st->drop_connect_rate) {
        char a[160], b[160];
        ft_str(ck, a, sizeof a);
        ft_str(st, b, sizeof b);
        return vkdp_seterr(err, errlen, "it was trained with %s, this run has %s", a, b);
    }
    return 0;
}
