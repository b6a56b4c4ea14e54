/* Checkpoint state: lifetime, metrics rows, --resume resolution and the resume compatibility check. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "vkdp/ckpt/ckpt.h"
#include "vkdp/core/common.h"
#include "vkdp/core/errmsg.h"
#include "vkdp/h5/h5.h"
#include "vkdp_git_commit.h" /* generated: VKDP_GIT_COMMIT */

void vkdp_ckpt_state_init(vkdp_ckpt_state *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->version, sizeof s->version, "%s", VKDP_VERSION);
    snprintf(s->git_commit, sizeof s->git_commit, "%s", VKDP_GIT_COMMIT);
    s->beta1 = 0.9;
    s->beta2 = 0.999;
    s->epsilon = 1e-7;
    s->drop_connect_rate = VKDP_CKPT_DROP_CONNECT_DEFAULT;
}

static void free_tensors(vkdp_named_tensor *t, int n)
{
    if (!t)
        return;
    for (int i = 0; i < n; i++)
        free(t[i].data);
    free(t);
}

void vkdp_ckpt_state_free(vkdp_ckpt_state *s)
{
    if (!s)
        return;
    if (s->class_names)
        for (int i = 0; i < s->nclasses; i++)
            free(s->class_names[i]);
    free(s->class_names);
    free_tensors(s->weights, s->nweights);
    free_tensors(s->backbone, s->nbackbone);
    free_tensors(s->adam_m, s->nslots);
    free_tensors(s->adam_v, s->nslots);
    free(s->epoch_m);
    free(s->step_m);
    memset(s, 0, sizeof *s);
}

void vkdp_ckpt_add_epoch_metrics(vkdp_ckpt_state *s, const vkdp_epoch_metrics *m)
{
    s->epoch_m = vkdp_xrealloc(s->epoch_m, (size_t)(s->nepochs_m + 1) * sizeof *s->epoch_m);
    s->epoch_m[s->nepochs_m++] = *m;
}

void vkdp_ckpt_add_step_metrics(vkdp_ckpt_state *s, const vkdp_step_metrics *m)
{
    /* Doubling growth: there is one row per step. */
    int64_t n = s->nsteps_m;
    if ((n & (n - 1)) == 0)
        s->step_m = vkdp_xrealloc(s->step_m, (size_t)(n ? 2 * n : 1) * sizeof *s->step_m);
    s->step_m[s->nsteps_m++] = *m;
}

int64_t vkdp_tensor_numel(const vkdp_named_tensor *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->rank; d++)
        n *= t->shape[d];
    return n;
}

void vkdp_tensor_shape_str(const vkdp_named_tensor *t, char *buf, size_t len)
{
    vkdp_h5_shape_str(buf, len, t->rank, t->shape);
}

const vkdp_named_tensor *vkdp_ckpt_find_weight(const vkdp_ckpt_state *s, const char *name)
{
    for (int i = 0; i < s->nweights; i++)
        if (!strcmp(s->weights[i].name, name))
            return &s->weights[i];
    for (int i = 0; i < s->nbackbone; i++)
        if (!strcmp(s->backbone[i].name, name))
            return &s->backbone[i];
    return NULL;
}

void vkdp_ckpt_utc_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    if (t == (time_t)-1 || !gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, len, "unknown");
}

int vkdp_ckpt_resolve(const char *arg, const char *dir, char *buf, size_t buflen, char *err,
                      size_t errlen)
{
    struct stat st;
    if (!arg || !arg[0] || !strcmp(arg, "none"))
        return 0;
    if (!strcmp(arg, "auto")) {
        if ((size_t)snprintf(buf, buflen, "%s/%s", dir, VKDP_CKPT_LATEST) >= buflen)
            return vkdp_seterr(err, errlen, "--resume auto: checkpoint path %s/%s is too long", dir,
                        VKDP_CKPT_LATEST);
        if (lstat(buf, &st) < 0) {
            if (errno == ENOENT)
                return 0;
            return vkdp_seterr(err, errlen, "--resume auto: cannot inspect %s: %s", buf, strerror(errno));
        }
        if (stat(buf, &st) < 0)
            return vkdp_seterr(err, errlen,
                        "--resume auto: %s exists but its target cannot be read (%s); remove it "
                        "to start fresh, or pass --resume FILE",
                        buf, strerror(errno));
        return 1;
    }
    if (stat(arg, &st) < 0)
        return vkdp_seterr(err, errlen, "--resume %s: %s", arg, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return vkdp_seterr(err, errlen, "--resume %s: not a regular file", arg);
    if ((size_t)snprintf(buf, buflen, "%s", arg) >= buflen)
        return vkdp_seterr(err, errlen, "--resume %s: path too long", arg);
    return 1;
}

/* "[a,b,c]" into buf (truncated with "..." when long). */
static void format_classes(char *buf, size_t len, char *const *names, int n)
{
    size_t pos = 0;
    buf[0] = 0;
    pos += (size_t)snprintf(buf + pos, len - pos, "[");
    for (int i = 0; i < n && pos < len; i++)
        pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", i ? "," : "", names[i]);
    if (pos < len)
        snprintf(buf + pos, len - pos, "]");
    if (pos >= len - 1 && len > 4)
        memcpy(buf + len - 5, "...]", 5);
}

int vkdp_ckpt_check_compatible(const vkdp_ckpt_state *ck, const vkdp_ckpt_state *cmd, char *err,
                               size_t errlen)
{
    int same = ck->nclasses == cmd->nclasses;
    for (int i = 0; same && i < ck->nclasses; i++)
        same = !strcmp(ck->class_names[i], cmd->class_names[i]);
    if (!same) {
        char a[512], b[512];
        format_classes(a, sizeof a, ck->class_names, ck->nclasses);
        format_classes(b, sizeof b, cmd->class_names, cmd->nclasses);
        return vkdp_seterr(err, errlen, "checkpoint has classes %s but --data has %s", a, b);
    }
    if (ck->image_size != cmd->image_size)
        return vkdp_seterr(err, errlen, "checkpoint has image size %d but --image-size is %d",
                    ck->image_size, cmd->image_size);
    if (strcmp(ck->weights_sha256, cmd->weights_sha256))
        return vkdp_seterr(err, errlen,
                    "checkpoint was trained from backbone weights with SHA-256 %s (%s) but "
                    "--weights %s has SHA-256 %s",
                    ck->weights_sha256, ck->weights_file, cmd->weights_file, cmd->weights_sha256);
    if (ck->backbone_trainable != cmd->backbone_trainable)
        return vkdp_seterr(err, errlen, "checkpoint has a %s backbone but this run's is %s",
                    ck->backbone_trainable ? "trainable" : "frozen",
                    cmd->backbone_trainable ? "trainable" : "frozen");
    for (int i = 0; i < cmd->nweights; i++) {
        const vkdp_named_tensor *c = &cmd->weights[i];
        const vkdp_named_tensor *k = vkdp_ckpt_find_weight(ck, c->name);
        if (!k)
            return vkdp_seterr(err, errlen, "checkpoint has no tensor %s, which this run's head has",
                        c->name);
        int eq = k->rank == c->rank;
        for (int d = 0; eq && d < c->rank; d++)
            eq = k->shape[d] == c->shape[d];
        if (!eq) {
            char a[96], b[96];
            vkdp_tensor_shape_str(k, a, sizeof a);
            vkdp_tensor_shape_str(c, b, sizeof b);
            return vkdp_seterr(err, errlen, "checkpoint tensor %s has shape %s but this run's has %s",
                        c->name, a, b);
        }
    }
    return 0;
}
