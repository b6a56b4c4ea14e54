/* --fine-tune-from / --trainable-top resolution and sizing (vkdp/model/finetune_plan.h) against
 * the table of docs/fine-tuning.md (computed there from the architecture by hand) and Keras'
 * counting of model.layers; every refusal names the choices. `test_finetune_plan names` prints
 * the backbone's layer names, which finetune_plan_layer_names compares with the weights file. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "vkdp/model/finetune_plan.h"

/* docs/fine-tuning.md, section 2, at 224x224 */
static const struct {
    const char *from;
    long tape, params;
} table[] = {
    {"top_conv", 78400, 409600},      {"block7a", 203009, 1121584}, {"block6d", 327618, 1704544},
    {"block6a", 764773, 3129884},     {"block5a", 1543016, 3665064}, {"block4a", 2219659, 3902714},
    {"block1a", 6755632, 3964668},
};

static void expect_ok_from(const char *layer, const char *canon, int top)
{
    vkdp_finetune_plan p;
    char err[1024] = "";
    int rc = vkdp_finetune_plan_from(layer, 224, &p, err, sizeof err);
    EXPECT(rc == 0, "--fine-tune-from %s refused: %s", layer, err);
    if (rc == 0) {
        EXPECT(!strcmp(p.from, canon), "--fine-tune-from %s resolved to %s, expected %s", layer, p.from, canon);
        EXPECT(p.trainable_top == top, "--fine-tune-from %s = --trainable-top %d, expected %d", layer,
              p.trainable_top, top);
    }
}

/* rc -1 and every needle in the message */
static void expect_refused(int rc, const char *err, const char *what, const char *n1, const char *n2)
{
    EXPECT(rc == -1, "%s was accepted", what);
    EXPECT(strstr(err, n1) != NULL, "%s: message has '%s': %s", what, n1, err);
    EXPECT(!n2 || strstr(err, n2) != NULL, "%s: message has '%s': %s", what, n2 ? n2 : "", err);
    printf("refused as expected: %s\n", err);
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "names")) {
        static char names[VKDP_EFFNET_LAYERS][VKDP_LAYER_NAME_MAX];
        vkdp_effnet_layer_names(names);
        for (int i = 0; i < VKDP_EFFNET_LAYERS; i++)
            printf("%s\n", names[i]);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "tensors")) {
        vkdp_finetune_plan p;
        char err[1024];
        if (vkdp_finetune_plan_from(argv[2], 224, &p, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 2;
        }
        static vkdp_finetune_tensor t[400];
        int n = vkdp_finetune_tensors(&p, t, 400);
        for (int i = 0; i < n && i < 400; i++) {
            printf("%s", t[i].path);
            for (int d = 0; d < t[i].rank; d++)
                printf(" %lld", (long long)t[i].shape[d]);
            printf("\n");
        }
        return 0;
    }
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        vkdp_finetune_plan p;
        char err[1024] = "";
        EXPECT(vkdp_finetune_plan_from(table[i].from, 224, &p, err, sizeof err) == 0, "%s: %s", table[i].from, err);
        EXPECT(p.tape_floats == table[i].tape, "%s: tape %lld floats, the note has %ld", table[i].from,
              (long long)p.tape_floats, table[i].tape);
        EXPECT(p.params == table[i].params, "%s: %lld parameters, the note has %ld", table[i].from,
              (long long)p.params, table[i].params);
        vkdp_finetune_plan q;
        EXPECT(vkdp_finetune_plan_top(p.trainable_top, 224, &q, err, sizeof err) == 0 && !strcmp(q.from, p.from) &&
                  q.params == p.params && q.tape_floats == p.tape_floats,
              "--trainable-top %d is not --fine-tune-from %s: %s", p.trainable_top, p.from, err);
    }
    /* the flat blocks' table: contiguous, summing to the parameter count, reverse Keras order */
    static const struct {
        const char *from, *last;
        int n;
    } order[] = {{"top_conv", "top_conv/top_conv/kernel:0", 1},
                 {"block7a", "block7a_expand_conv/block7a_expand_conv/kernel:0", 8},
                 {"block6a", "block6a_expand_conv/block6a_expand_conv/kernel:0", 36},
                 {"block1a", "block1a_dwconv/block1a_dwconv/depthwise_kernel:0", 112}};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        vkdp_finetune_plan p;
        char err[1024] = "";
        static vkdp_finetune_tensor t[400];
        vkdp_finetune_plan_from(order[i].from, 224, &p, err, sizeof err);
        int n = vkdp_finetune_tensors(&p, t, 400);
        int64_t next = 0;
        int contiguous = 1;
        for (int k = 0; k < n; k++) {
            int64_t numel = 1;
            for (int d = 0; d < t[k].rank; d++)
                numel *= t[k].shape[d];
            contiguous = contiguous && t[k].offset == next && t[k].numel == numel;
            next += t[k].numel;
        }
        EXPECT(n == order[i].n && contiguous && next == p.params, "%s: %d tensors (want %d), contiguous %d, "
               "%lld floats (want %lld)", order[i].from, n, order[i].n, contiguous, (long long)next,
               (long long)p.params);
        EXPECT(n > 0 && !strcmp(t[0].path, "top_conv/top_conv/kernel:0") && !strcmp(t[n - 1].path, order[i].last),
               "%s: first %s, last %s (want top_conv's kernel, %s)", order[i].from, n ? t[0].path : "-",
               n ? t[n - 1].path : "-", order[i].last);
        EXPECT(vkdp_finetune_tensors(&p, t, 0) == n, "%s: the count without room to write", order[i].from);
    }
    /* the Keras example's model.layers[-20:] is block7a + top_conv; block6a is 79 (the note) */
    expect_ok_from("block7a", "block7a", 20);
    expect_ok_from("block6a", "block6a", 79);
    expect_ok_from("top_conv", "top_conv", 7);
    /* a layer that starts a block names the block; block1a has no expand conv */
    expect_ok_from("block6a_expand_conv", "block6a", 79);
    expect_ok_from("block1a_dwconv", "block1a", 234);
    /* the tape shrinks with the image: 64x64 has 2x2 maps at block6a's output */
    vkdp_finetune_plan small;
    char err[1024] = "";
    EXPECT(vkdp_finetune_plan_from("top_conv", 64, &small, err, sizeof err) == 0 &&
              small.tape_floats == 2 * 2 * (320 + 1280) && small.params == 409600,
          "top_conv at 64x64: %lld floats", (long long)small.tape_floats);
    int rc;
    rc = vkdp_finetune_plan_from("block8a", 224, &small, err, sizeof err);
    expect_refused(rc, err, "unknown block8a", "block7a", "top_conv");
    rc = vkdp_finetune_plan_from("stem_conv", 224, &small, err, sizeof err);
    expect_refused(rc, err, "stem_conv", "stem", "block1a");
    rc = vkdp_finetune_plan_from("block6a_dwconv", 224, &small, err, sizeof err);
    expect_refused(rc, err, "block6a_dwconv", "block6a or block6b", NULL);
    rc = vkdp_finetune_plan_from("block7a_project_bn", 224, &small, err, sizeof err);
    expect_refused(rc, err, "block7a_project_bn", "block7a or top_conv", NULL);
    rc = vkdp_finetune_plan_from("top_bn", 224, &small, err, sizeof err);
    expect_refused(rc, err, "top_bn", "top_conv", NULL);
    rc = vkdp_finetune_plan_from("", 224, &small, err, sizeof err);
    expect_refused(rc, err, "empty name", "block1a", NULL);
    /* --trainable-top: 19 leaves block7a_expand_conv frozen */
    rc = vkdp_finetune_plan_top(19, 224, &small, err, sizeof err);
    expect_refused(rc, err, "--trainable-top 19", "--trainable-top 20 (from block7a)",
                   "--trainable-top 7 (from top_conv)");
    rc = vkdp_finetune_plan_top(6, 224, &small, err, sizeof err);
    expect_refused(rc, err, "--trainable-top 6", "at least 7", NULL);
    rc = vkdp_finetune_plan_top(235, 224, &small, err, sizeof err);
    expect_refused(rc, err, "--trainable-top 235", "at most 234", NULL);
    if (test_fails) {
        fprintf(stderr, "%d check(s) failed\n", test_fails);
        return 1;
    }
    printf("ok: fine-tuning plans match docs/fine-tuning.md and Keras' layer counting\n");
    return 0;
}
