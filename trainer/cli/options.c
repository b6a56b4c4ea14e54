/* The shared flags' table: default, limit, message and help line of each; see options.h. */
#include "vkdp/cli/options.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/core/strlist.h"
#include "vkdp/vk/devsel.h"
#include "vkdp/data/data.h"

typedef enum { T_PATH, T_LIST, T_DEVICES, T_INT, T_U32, T_FRACTION, T_SWITCH } kind;

typedef struct {
    int flag;
    const char *name;            /* without the leading -- */
    const char *arg;             /* metavariable in the help; NULL for a switch */
    kind type;
    long lo, hi;                 /* T_INT, T_U32: inclusive; T_FRACTION: [lo, hi) */
    size_t field;                /* offsetof in vkdp_session_cfg */
    const char *def;             /* default, as given on the command line; NULL: none */
    long unset;                  /* T_INT without a default: the "automatic" value */
    const char *def_help;        /* the default in words when def is NULL */
    const char *help;
} spec;

#define F(m) offsetof(vkdp_session_cfg, m)
static const spec specs[] = {
    {VKDP_OPT_DATA, "data", "DIR", T_PATH, 0, 0, F(data_dir), "data/flower_photos", 0, NULL,
     "image folder, one subfolder per class"},
    {VKDP_OPT_WEIGHTS, "weights", "FILE", T_PATH, 0, 0, F(weights), "weights/efficientnetb0_notop.h5", 0, NULL,
     "Keras EfficientNetB0 weights .h5"},
    {VKDP_OPT_ALLOW_MISSING_WEIGHTS, "allow-missing-weights", NULL, T_SWITCH, 0, 0, F(allow_missing_weights), NULL, 0,
     NULL, "initialise tensors missing from the weights file as Keras would (warns)"},
    {VKDP_OPT_CLASS_NAMES, "class-names", "a,b,...", T_LIST, 0, 0, F(class_names), NULL, 0, "sorted subfolder names",
     "classes in this order"},
    {VKDP_OPT_IMAGE_SIZE, "image-size", "N", T_INT, 32, 4096, F(image_size), "224", 0, NULL, "square input side"},
    {VKDP_OPT_VALIDATION_SPLIT, "validation-split", "F", T_FRACTION, 0, 1, F(validation_split), "0.2", 0, NULL,
     "held-out fraction, Keras' validation_split"},
    {VKDP_OPT_SEED, "seed", "N", T_U32, 0, 0xffffffffL, F(seed), "123", 0, NULL,
     "split seed (train: also the draws', unless --draw-seed)"},
    {VKDP_OPT_BATCH, "batch", "N", T_INT, 1, 4096, F(batch), "32", 0, NULL,
     "global batch size, split over the ranks"},
    {VKDP_OPT_DECODE_THREADS, "decode-threads", "N", T_INT, 1, 256, F(decode_threads), NULL, 0,
     "cores / ranks per node", "JPEG decode threads per rank"},
    {VKDP_OPT_DEVICE, "device", "N[,M...]", T_DEVICES, 0, 0, F(device), NULL, 0,
     "PCI bus order",
     "Vulkan device of every rank, or one per rank on a node (`trainer devices`)"},
    {VKDP_OPT_PROFILE, "profile", NULL, T_SWITCH, 0, 0, F(profile), NULL, 0, NULL,
     "print the per-op device time table at the end"},
    {VKDP_OPT_MAX_PIXELS, "max-pixels", "N", T_INT, 1, (long)VKDP_MAX_IMAGE_SIDE * VKDP_MAX_IMAGE_SIDE,
     F(max_pixels), "50000000", 0, NULL, "skip (and name) an image whose header declares more pixels"},
    {VKDP_OPT_FEATURE_BATCH, "feature-batch", "N", T_INT, 1, 4096, F(feature_batch), NULL, 0,
     "the device's tune row",
     "images per backbone call while features are computed (runs steps ahead of the head)"},
};
#undef F
_Static_assert(sizeof specs / sizeof specs[0] == VKDP_OPT_END - VKDP_OPT_DATA, "one table row per shared flag");
_Static_assert(VKDP_DEFAULT_MAX_PIXELS == 50000000, "--max-pixels' default in the table is the data module's");
_Static_assert(sizeof(long) >= 8, "--seed's limit, 0..4294967295, is parsed as a long");

static const spec *find(int flag)
{
    for (size_t i = 0; i < VKDP_ARRAY_LEN(specs); i++)
        if (specs[i].flag == flag)
            return &specs[i];
    return NULL;
}

/* Checks arg against the row's limit and stores it; -1 after the message. */
static int store(const char *cmd, const spec *s, const char *arg, vkdp_session_cfg *sc)
{
    char opt[64];
    snprintf(opt, sizeof opt, "--%s", s->name);
    char *field = (char *)sc + s->field;
    long v;
    double d;
    switch (s->type) {
    case T_PATH:
        *(const char **)field = arg;
        return 0;
    case T_LIST: {
        char **names = NULL;
        int n = vkdp_split_csv(arg, &names);
        vkdp_free_strings(names, n);
        if (n == 0) {
            fprintf(stderr, "trainer %s: %s '%s' names no class\n", cmd, opt, arg);
            return -1;
        }
        *(const char **)field = arg;
        return 0;
    }
    case T_DEVICES: {
        int list[VKDP_MAX_DEVICE_LIST];
        char err[256];
        if (vkdp_parse_device_list(arg, list, err, sizeof err) < 0) {
            fprintf(stderr, "trainer %s: %s: %s\n", cmd, opt, err);
            return -1;
        }
        *(const char **)field = arg;
        return 0;
    }
    case T_INT:
        if (vkdp_parse_long(cmd, opt, arg, s->lo, s->hi, &v))
            return -1;
        *(int *)field = (int)v;
        return 0;
    case T_U32:
        if (vkdp_parse_long(cmd, opt, arg, s->lo, s->hi, &v))
            return -1;
        *(uint32_t *)field = (uint32_t)v;
        return 0;
    case T_FRACTION:
        if (vkdp_parse_double_below(cmd, opt, arg, (double)s->lo, (double)s->hi, &d))
            return -1;
        *(double *)field = d;
        return 0;
    case T_SWITCH:
        *(int *)field = 1;
        return 0;
    }
    return -1;
}

static void defaults(vkdp_session_cfg *sc)
{
    memset(sc, 0, sizeof *sc);
    for (size_t i = 0; i < VKDP_ARRAY_LEN(specs); i++) {
        const spec *s = &specs[i];
        if (s->def) {
            /* a default outside its own limit is a bug of this table */
            if (store("(default)", s, s->def, sc) != 0)
                VKDP_FATAL("the default of --%s, '%s', is outside its limit", s->name, s->def);
        } else if (s->type == T_INT) {
            *(int *)((char *)sc + s->field) = (int)s->unset;
        }
    }
}

void vkdp_opts_begin(vkdp_opt_parser *p, const char *cmd, int argc, char **argv, const int *flags, int n,
                     const struct option *own, vkdp_session_cfg *sc)
{
    p->cmd = cmd;
    p->argc = argc;
    p->argv = argv;
    p->sc = sc;
    defaults(sc);
    optind = 1;
    struct option *v = p->v;
    size_t k = 0, cap = VKDP_ARRAY_LEN(p->v);
    for (int i = 0; i < n; i++) {
        const spec *s = find(flags[i]);
        if (!s || k + 1 >= cap)
            VKDP_FATAL("option table: flag %d is %s", flags[i], s ? "one too many" : "not a shared flag");
        v[k++] = (struct option){s->name, s->arg ? required_argument : no_argument, NULL, s->flag};
    }
    for (; own->name; own++) {
        if (k + 1 >= cap || own->val >= VKDP_OPT_DATA)
            VKDP_FATAL("option table: --%s does not fit", own->name);
        v[k++] = *own;
    }
    v[k] = (struct option){NULL, 0, NULL, 0};
}

int vkdp_opts_next(vkdp_opt_parser *p)
{
    for (;;) {
        int c = getopt_long(p->argc, p->argv, "h", p->v, NULL);
        const spec *s = find(c);
        if (!s)
            return c;
        if (store(p->cmd, s, optarg, p->sc) != 0)
            return VKDP_OPT_BAD;
    }
}

void vkdp_opts_help(FILE *f, int flag, int width, const char *default_from)
{
    const spec *s = find(flag);
    if (!s)
        VKDP_FATAL("option help: flag %d is not a shared flag", flag);
    char left[64];
    snprintf(left, sizeof left, "--%s%s%s", s->name, s->arg ? " " : "", s->arg ? s->arg : "");
    fprintf(f, "  %-*s %s", width, left, s->help);
    if (default_from)
        fprintf(f, " (default: %s)", default_from);
    else if (s->def)
        fprintf(f, " (default %s)", s->def);
    else if (s->def_help)
        fprintf(f, " (default: %s)", s->def_help);
    fprintf(f, "\n");
}
